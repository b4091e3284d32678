namespace Dashboard.Images;
internal static class ProjectMarker;
