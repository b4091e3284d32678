[assembly: AssemblyFixture(typeof(Dashboard.Web.E2E.Tests.DashboardStack))]

// One engine, one web server and one browser serve every test; one collection runs the scenarios one at a time.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
