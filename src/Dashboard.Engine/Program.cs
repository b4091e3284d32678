var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/_ping", () => "OK");
app.Run();
