namespace Dashboard.Runtime;
internal static class ProjectMarker;
