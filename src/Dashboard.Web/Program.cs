using Dashboard.Web.Hosting;

var app = WebApp.Build(args);
await app.RunAsync();
