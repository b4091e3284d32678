namespace Dashboard.Oci;
internal static class ProjectMarker;
