namespace Dashboard.Linux;
internal static class ProjectMarker;
