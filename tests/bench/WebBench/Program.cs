using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Dashboard.Testing.Images;
using Docker.DotNet;
using Docker.DotNet.Models;
using Microsoft.Playwright;

// Driver for tests/bench/web-*.sh: Playwright with Debian's Chromium against a running dashboard-web + dashboard-engine.
//   WebBench setup   URL SECRET_FILE USER PASSWORD        bootstrap the first admin through the setup page
//   WebBench image   SOCKET                               load busybox into the engine (docker load of the shared layout)
//   WebBench list    URL USER PASSWORD SOCKET COUNT RUNS  containers page with COUNT containers: first render and scroll
//   WebBench latency URL USER PASSWORD SOCKET PAGES SECONDS  line written -> shown in PAGES open log views
//   WebBench flood   URL USER PASSWORD SOCKET SECONDS WEB_PID  one log view following ~50,000 lines/s
var mode = args.Length > 0 ? args[0] : "";
var ci = CultureInfo.InvariantCulture;
switch (mode)
{
    case "setup":
        await SetupAsync(args[1], args[2], args[3], args[4]);
        break;
    case "image":
        await LoadImageAsync(args[1]);
        break;
    case "list":
        await ListAsync(args[1], args[2], args[3], args[4], int.Parse(args[5], ci), int.Parse(args[6], ci));
        break;
    case "latency":
        await LatencyAsync(args[1], args[2], args[3], args[4], int.Parse(args[5], ci), int.Parse(args[6], ci));
        break;
    case "flood":
        await FloodAsync(args[1], args[2], args[3], args[4], int.Parse(args[5], ci), int.Parse(args[6], ci));
        break;
    default:
        Console.Error.WriteLine("usage: WebBench setup|image|list|latency|flood ...");
        return 2;
}

return 0;

static async Task<IBrowser> BrowserAsync(IPlaywright playwright) =>
    await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-dev-shm-usage"],
    });

static async Task<IPage> SignInAsync(IBrowser browser, string url, string user, string password)
{
    var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url, IgnoreHTTPSErrors = true, ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
    context.SetDefaultTimeout(60_000);
    var page = await context.NewPageAsync();
    await GotoAsync(page, "/account/login");
    await page.Locator("input[name=UserName]").FillAsync(user);
    await page.Locator("input[name=Password]").FillAsync(password);
    await page.Locator("form[action='/account/signin'] button[type=submit]").ClickAsync();
    await page.WaitForURLAsync(u => !u.Contains("/account/", StringComparison.Ordinal));
    return page;
}

// Chromium aborts a navigation with ERR_NETWORK_CHANGED when any interface changes, and other agents on this machine
// add and remove veths all the time: navigate again (restarting the caller's clock) instead of failing the run.
static async Task GotoAsync(IPage page, string url, PageGotoOptions? options = null, Action? retrying = null)
{
    for (var attempt = 1; ; attempt++)
    {
        try
        {
            await page.GotoAsync(url, options);
            return;
        }
        catch (PlaywrightException e) when (attempt < 5 && e.Message.Contains("ERR_NETWORK_CHANGED", StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"{url}: network changed, navigating again");
            retrying?.Invoke();
        }
    }
}

static Task WaitInteractiveAsync(IPage page) =>
    page.GetByTestId("interactive").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

static DockerClient Engine(string socket) => new DockerClientBuilder().WithEndpoint(new Uri("unix://" + socket)).Build();

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToList();
    var rank = p / 100.0 * (sorted.Count - 1);
    var lo = (int)Math.Floor(rank);
    var hi = (int)Math.Ceiling(rank);
    return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
}

static async Task SetupAsync(string url, string secretFile, string user, string password)
{
    using var playwright = await Playwright.CreateAsync();
    await using var browser = await BrowserAsync(playwright);
    var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = url, IgnoreHTTPSErrors = true });
    var page = await context.NewPageAsync();
    await GotoAsync(page, "/account/setup");
    await page.Locator("input[name=Secret]").FillAsync((await File.ReadAllTextAsync(secretFile)).Trim());
    await page.Locator("input[name=UserName]").FillAsync(user);
    await page.Locator("input[name=Password]").FillAsync(password);
    await page.Locator("input[name=ConfirmPassword]").FillAsync(password);
    await page.Locator("form[action='/account/bootstrap'] button[type=submit]").ClickAsync();
    await page.WaitForURLAsync(u => u.Contains("/account/login", StringComparison.Ordinal));
    Console.Error.WriteLine($"admin {user} created");
}

static async Task LoadImageAsync(string socket)
{
    var dir = Directory.CreateTempSubdirectory("web-bench-image-").FullName;
    try
    {
        var layout = Path.Combine(dir, "oci");
        BusyboxImage.CreateLayout(layout);
        var archive = Path.Combine(dir, "busybox.tar");
        using (var skopeo = Process.Start(new ProcessStartInfo("skopeo") { ArgumentList = { "copy", "--quiet", $"oci:{layout}:latest", $"docker-archive:{archive}:busybox:latest" } })!)
        {
            await skopeo.WaitForExitAsync();
            if (skopeo.ExitCode != 0)
            {
                throw new InvalidOperationException($"skopeo: exit {skopeo.ExitCode}");
            }
        }

        using var engine = Engine(socket);
        await using var stream = File.OpenRead(archive);
        await engine.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, stream, new Progress<JSONMessage>());
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

static async Task ListAsync(string url, string user, string password, string socket, int count, int runs)
{
    using var engine = Engine(socket);
    var existing = (await engine.Containers.ListContainersAsync(new ContainersListParameters { All = true })).Count;
    var create = Stopwatch.StartNew();
    for (var i = existing; i < count; i++)
    {
        await engine.Containers.CreateContainerAsync(new CreateContainerParameters { Image = "busybox", Name = $"bench-list-{i:D4}", Cmd = ["true"] });
    }

    Console.Error.WriteLine($"list: {count} containers ready (created {Math.Max(0, count - existing)} in {create.Elapsed.TotalSeconds:0.0} s)");
    using var playwright = await Playwright.CreateAsync();
    await using var browser = await BrowserAsync(playwright);
    var page = await SignInAsync(browser, url, user, password);
    for (var run = 0; run < runs; run++)
    {
        await GotoAsync(page, "/overview");
        var clock = Stopwatch.StartNew();
        await GotoAsync(page, "/containers", new PageGotoOptions { WaitUntil = WaitUntilState.Commit }, () => clock.Restart());
        await page.GetByTestId("container-name").First.WaitForAsync();
        var firstRow = clock.Elapsed.TotalMilliseconds;
        await WaitInteractiveAsync(page);
        var interactive = clock.Elapsed.TotalMilliseconds;
        var firstName = await page.GetByTestId("container-name").First.InnerTextAsync();

        // Where the time went, from the page's own clock (ms since navigation start): the prerendered HTML's first
        // and last byte, DOMContentLoaded, and when the circuit's connection was negotiated.
        var timing = await page.EvaluateAsync<string>("""
            () => {
              const n = performance.getEntriesByType('navigation')[0];
              const neg = performance.getEntriesByType('resource').find(r => r.name.includes('/_blazor/negotiate'));
              const f = v => v === undefined ? 'na' : Math.round(v);
              return `ttfb_ms=${f(n.responseStart)} html_ms=${f(n.responseEnd)} html_kib=${f(n.transferSize / 1024)} dcl_ms=${f(n.domContentLoadedEventEnd)} negotiate_ms=${f(neg?.startTime)}`;
            }
            """);

        // Scroll to the end the way a wheel does, one viewport at a time, until the rows stop changing.
        var scroll = Stopwatch.StartNew();
        var steps = 0;
        string? last = null;
        for (var stable = 0; stable < 3 && steps < 2000; steps++)
        {
            await page.Mouse.WheelAsync(0, 4000);
            await page.EvaluateAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))");
            var now = await page.GetByTestId("container-name").Last.InnerTextAsync();
            stable = now == last ? stable + 1 : 0;
            last = now;
        }

        var rows = await page.GetByTestId("container-name").CountAsync();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"list run={run} first_row_ms={firstRow:0} interactive_ms={interactive:0} scroll_ms={scroll.Elapsed.TotalMilliseconds:0} wheel_steps={steps} rows_in_dom={rows} first={firstName} last={last} {timing}"));
    }
}

static async Task LatencyAsync(string url, string user, string password, string socket, int pages, int seconds)
{
    using var engine = Engine(socket);
    var dir = Directory.CreateTempSubdirectory("web-bench-fifo-").FullName;
    var fifo = Path.Combine(dir, "in");
    using (var mkfifo = Process.Start("mkfifo", fifo))
    {
        await mkfifo.WaitForExitAsync();
    }

    // cat copies each line from the FIFO to stdout as it arrives: the write time is when this driver writes it.
    var created = await engine.Containers.CreateContainerAsync(new CreateContainerParameters
    {
        Image = "busybox",
        Name = "bench-latency-" + Guid.NewGuid().ToString("N")[..6],
        Cmd = ["cat", "/bench/in"],
        HostConfig = new HostConfig { Binds = [$"{dir}:/bench"] },
    });
    await engine.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
    await using var writer = new StreamWriter(new FileStream(fifo, FileMode.Open, FileAccess.Write)) { AutoFlush = true };
    try
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await BrowserAsync(playwright);
        var views = new List<IPage>();
        for (var i = 0; i < pages; i++)
        {
            var page = await SignInAsync(browser, url, user, password);
            await GotoAsync(page, $"/containers/local/{created.ID}");
            await WaitInteractiveAsync(page);
            await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Logs" }).ClickAsync();
            await page.GetByTestId("log-viewer").WaitForAsync();
            // A line counts as shown when a log-line element with its text is added, or when an existing row's
            // text changes to it (a virtualized list re-uses its row elements); __added keeps the added-only count.
            await page.EvaluateAsync("""
                () => {
                  window.__lat = {};
                  window.__added = {};
                  const seen = (n, added) => {
                    const m = /^L (\d+) (\d+)$/.exec((n.textContent || '').trim());
                    if (!m) return;
                    const ms = Date.now() - Number(m[2]);
                    if (!(m[1] in window.__lat)) window.__lat[m[1]] = ms;
                    if (added && !(m[1] in window.__added)) window.__added[m[1]] = ms;
                  };
                  new MutationObserver(list => {
                    for (const r of list) {
                      for (const n of r.addedNodes) {
                        if (n.nodeType !== 1) {
                          const row = n.parentElement?.closest('[data-testid=log-line]');
                          if (row) seen(row, false);
                          continue;
                        }
                        if (n.matches('[data-testid=log-line]')) seen(n, true);
                        n.querySelectorAll?.('[data-testid=log-line]').forEach(e => seen(e, true));
                        const row = n.closest('[data-testid=log-line]');
                        if (row && row !== n) seen(row, false);
                      }
                      if (r.type === 'characterData') {
                        const row = r.target.parentElement?.closest('[data-testid=log-line]');
                        if (row) seen(row, false);
                      }
                    }
                  }).observe(document.body, { childList: true, subtree: true, characterData: true });
                }
                """);
            views.Add(page);
        }

        var total = seconds * 10;
        for (var seq = 0; seq < total; seq++)
        {
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"L {seq} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}"));
            await Task.Delay(100);
        }

        await Task.Delay(2000);
        var all = new List<double>();
        var missing = 0;
        var addedOnly = 0;
        var domRows = new List<int>();
        foreach (var page in views)
        {
            // As a JSON string: Playwright's own object serialization adds reference ids ("$id").
            using var json = JsonDocument.Parse(await page.EvaluateAsync<string>("() => JSON.stringify(window.__lat)"));
            var got = json.RootElement.EnumerateObject().ToDictionary(p => int.Parse(p.Name, CultureInfo.InvariantCulture), p => p.Value.GetDouble());
            missing += total - got.Count;
            all.AddRange(got.Values);
            addedOnly += await page.EvaluateAsync<int>("() => Object.keys(window.__added).length");
            domRows.Add(await page.GetByTestId("log-line").CountAsync());
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency pages={pages} lines={total} samples={all.Count} missing={missing} p50_ms={Percentile(all, 50):0.0} p95_ms={Percentile(all, 95):0.0} max_ms={all.DefaultIfEmpty(double.NaN).Max():0.0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"latency samples_as_added_rows={addedOnly} (the count the session-4 driver used) rows_in_dom={string.Join(',', domRows)}"));
    }
    finally
    {
        await engine.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
        Directory.Delete(dir, recursive: true);
    }
}

static async Task FloodAsync(string url, string user, string password, string socket, int seconds, int webPid)
{
    using var engine = Engine(socket);
    var created = await engine.Containers.CreateContainerAsync(new CreateContainerParameters
    {
        Image = "busybox",
        Name = "bench-flood-" + Guid.NewGuid().ToString("N")[..6],
        Cmd = ["sh", "-c", "trap 'exit 0' TERM; while true; do yes 'flood line abcdefghijklmnopqrstuvwxyz 0123456789' | head -n 5000; usleep 100000; done"],
    });
    try
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await BrowserAsync(playwright);
        var page = await SignInAsync(browser, url, user, password);
        var rssStart = Rss(webPid);
        await engine.Containers.StartContainerAsync(created.ID, new ContainerStartParameters());
        await GotoAsync(page, $"/containers/local/{created.ID}");
        await WaitInteractiveAsync(page);
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Logs" }).ClickAsync();
        await page.GetByTestId("log-line").First.WaitForAsync();

        var roundTrips = new List<double>();
        var rss = new List<long>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            // Input round trip: click Pause (or Resume) and wait until the button shows the other state.
            var ms = await page.EvaluateAsync<double>("""
                () => new Promise(resolve => {
                  const label = () => { const b = document.querySelector('[data-testid=toggle-pause]'); return b ? b.textContent + '|' + b.getAttribute('aria-pressed') + '|' + b.className : ''; };
                  const before = label();
                  const t0 = performance.now();
                  document.querySelector('[data-testid=toggle-pause]').click();
                  const check = () => label() !== before ? resolve(performance.now() - t0) : requestAnimationFrame(check);
                  requestAnimationFrame(check);
                  setTimeout(() => resolve(-1), 30000);
                })
                """);
            roundTrips.Add(ms);
            rss.Add(Rss(webPid));
            await Task.Delay(2000);
        }

        var lines = await page.GetByTestId("log-line").CountAsync();
        var skipped = await page.GetByTestId("log-skipped").CountAsync() > 0 ? await page.GetByTestId("log-skipped").First.InnerTextAsync() : "";
        var stats = await engine.Containers.InspectContainerAsync(created.ID);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"flood seconds={seconds} input_roundtrips={roundTrips.Count} timeouts={roundTrips.Count(r => r < 0)} p50_ms={Percentile(roundTrips.Where(r => r >= 0).ToList(), 50):0} p95_ms={Percentile(roundTrips.Where(r => r >= 0).ToList(), 95):0} max_ms={roundTrips.DefaultIfEmpty(0).Max():0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"flood web_rss_start_mib={rssStart / 1024.0:0} web_rss_max_mib={rss.DefaultIfEmpty(0).Max() / 1024.0:0} web_rss_end_mib={rss.DefaultIfEmpty(0).Last() / 1024.0:0} rss_samples={string.Join(',', rss.Select(r => (r / 1024).ToString(CultureInfo.InvariantCulture)))}"));
        Console.WriteLine($"flood dom_log_lines={lines} skipped_marker=\"{skipped.Trim()}\" container_running={stats.State?.Running}");
    }
    finally
    {
        await engine.Containers.RemoveContainerAsync(created.ID, new ContainerRemoveParameters { Force = true });
    }
}

/// <summary>Resident set of a process in KiB (VmRSS).</summary>
static long Rss(int pid)
{
    var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
