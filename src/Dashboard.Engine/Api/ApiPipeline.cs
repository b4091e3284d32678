using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;

namespace Dashboard.Engine.Api;

/// <summary>Cross-cutting parts of the Docker API: version prefix, headers, and the one place errors become HTTP.</summary>
public static partial class ApiPipeline
{
    /// <summary>The API version reported; the docker CLI negotiates down to it.</summary>
    public const string ApiVersion = "1.43";

    public const string MinApiVersion = "1.24";

    public const string EngineVersion = "0.1.0";

    [GeneratedRegex(@"^/v(\d+)\.(\d+)(/.*)$")]
    private static partial Regex VersionPrefix();

    public static IApplicationBuilder UseDockerApi(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            context.Response.Headers["Api-Version"] = ApiVersion;
            context.Response.Headers.Server = $"Dashboard-Engine/{EngineVersion} (linux)";
            context.Response.Headers["Docker-Experimental"] = "false";
            context.Response.Headers["Ostype"] = "linux";
            try
            {
                var path = context.Request.Path.Value ?? "/";
                var match = VersionPrefix().Match(path);
                if (match.Success)
                {
                    var requested = new Version(int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
                    if (requested > Version.Parse(ApiVersion))
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, $"client version {requested} is too new. Maximum supported API version is {ApiVersion}");
                    }

                    if (requested < Version.Parse(MinApiVersion))
                    {
                        throw new EngineException(ErrorKind.InvalidArgument, $"client version {requested} is too old. Minimum supported API version is {MinApiVersion}, please upgrade your client to a newer version");
                    }

                    context.Request.Path = match.Groups[3].Value;
                }

                await next(context);
            }
            catch (Exception e) when (e is not OperationCanceledException || !context.RequestAborted.IsCancellationRequested)
            {
                await WriteErrorAsync(context, e);
            }
        });

    public static int StatusFor(ErrorKind kind) => kind switch
    {
        ErrorKind.InvalidArgument or ErrorKind.Unsupported => StatusCodes.Status400BadRequest,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.AlreadyExists or ErrorKind.InvalidState => StatusCodes.Status409Conflict,
        ErrorKind.NotModified => StatusCodes.Status304NotModified,
        ErrorKind.PermissionDenied => StatusCodes.Status403Forbidden,
        _ => StatusCodes.Status500InternalServerError,
    };

    private static async Task WriteErrorAsync(HttpContext context, Exception e)
    {
        var (status, message) = e switch
        {
            EngineException ee => (StatusFor(ee.Kind), ee.Message),
            Dashboard.Images.ImageException ie => (StatusFor(Images.ImageErrors.Kind(ie.Kind)), ie.Message),
            BadHttpRequestException bad => (bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? StatusCodes.Status400BadRequest : bad.StatusCode, bad.Message),
            _ => (StatusCodes.Status500InternalServerError, e.Message),
        };
        if (status == StatusCodes.Status500InternalServerError)
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Dashboard.Engine.Api")
                .LogError(e, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
        }

        if (context.Response.HasStarted)
        {
            context.Features.Get<IHttpResponseBodyFeature>()?.Stream.Close();
            context.Abort();
            return;
        }

        context.Response.Clear();
        context.Response.Headers["Api-Version"] = ApiVersion;
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status304NotModified)
        {
            return;
        }

        await context.Response.WriteAsJsonAsync(new ErrorResponse(message), DockerJson.Info<ErrorResponse>(DockerJson.Options));
    }

    public static bool QueryBool(this HttpRequest request, string name, bool defaultValue = false)
    {
        var value = request.Query[name].ToString();
        return value.Length == 0 ? defaultValue : value is "1" or "true" or "True" or "TRUE";
    }

    public static int? QueryInt(this HttpRequest request, string name)
    {
        var value = request.Query[name].ToString();
        if (value.Length == 0)
        {
            return null;
        }

        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new EngineException(ErrorKind.InvalidArgument, $"invalid value for {name}: {value}");
    }

    /// <summary>Docker's timestamps in queries: seconds since the epoch with an optional fraction of up to 9 digits.</summary>
    public static long? QueryUnixNano(this HttpRequest request, string name)
    {
        var value = request.Query[name].ToString();
        if (value.Length == 0)
        {
            return null;
        }

        var parts = value.Split('.');
        if (parts.Length > 2 || !long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds)
            || (parts.Length == 2 && (parts[1].Length is 0 or > 9 || !parts[1].All(char.IsAsciiDigit))))
        {
            throw new EngineException(ErrorKind.InvalidArgument, $"invalid value for {name}: {value}");
        }

        var fraction = parts.Length == 2 ? long.Parse(parts[1].PadRight(9, '0'), CultureInfo.InvariantCulture) : 0;
        return seconds * 1_000_000_000 + fraction;
    }

    /// <summary>RFC3339Nano as Docker writes times in JSON (<c>0001-01-01T00:00:00Z</c> for none).</summary>
    public static string FormatTime(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) : "0001-01-01T00:00:00Z";

    /// <summary>Docker's units.HumanDuration wording.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < 1)
        {
            return "Less than a second";
        }

        if (seconds == 1)
        {
            return "1 second";
        }

        if (seconds < 60)
        {
            return $"{seconds} seconds";
        }

        var minutes = (long)d.TotalMinutes;
        if (minutes == 1)
        {
            return "About a minute";
        }

        if (minutes < 60)
        {
            return $"{minutes} minutes";
        }

        var hours = (long)Math.Round(d.TotalHours);
        if (hours == 1)
        {
            return "About an hour";
        }

        if (hours < 48)
        {
            return $"{hours} hours";
        }

        if (hours < 24 * 7 * 2)
        {
            return $"{hours / 24} days";
        }

        if (hours < 24 * 30 * 2)
        {
            return $"{hours / 24 / 7} weeks";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24 / 30} months";
        }

        return $"{hours / 24 / 365} years";
    }
}
