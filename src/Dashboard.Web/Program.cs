using Dashboard.Web.Hosting;

if (BackupCommand.IsCommand(args))
{
    return await BackupCommand.RunAsync(args);
}

var app = WebApp.Build(args);
await app.RunAsync();
return 0;
