using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace RnnEmbedded.Tests.Browser;

/// <summary>
/// A headless Debian chromium driven through chromedriver. When either is missing the test fails with the command
/// that installs them: a browser test that silently skips would prove nothing.
/// </summary>
internal sealed class Chromium : IDisposable
{
    public const string InstallHint =
        "install them with: apt-get update && apt-get install -y chromium chromium-driver " +
        "(or point RNN_CHROMIUM and RNN_CHROMEDRIVER at other binaries); .ci/run does this before the tests";

    /// <summary>Collects uncaught errors and console.error calls into window.__rnnErrors, installed before any page script.</summary>
    private const string ErrorCapture =
        "window.__rnnErrors = [];" +
        "window.addEventListener('error', function (e) { window.__rnnErrors.push('error: ' + e.message); });" +
        "window.addEventListener('unhandledrejection', function (e) { window.__rnnErrors.push('rejection: ' + e.reason); });" +
        "(function () { var original = console.error; console.error = function () {" +
        " window.__rnnErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); return original.apply(console, arguments); }; })();";

    private readonly string _profile;

    public Chromium()
        : this(Environment.GetEnvironmentVariable("RNN_CHROMIUM") ?? "/usr/bin/chromium",
               Environment.GetEnvironmentVariable("RNN_CHROMEDRIVER") ?? "/usr/bin/chromedriver")
    {
    }

    public Chromium(string browser, string driver)
    {
        Assert.True(File.Exists(browser), $"The browser tests need chromium, which is not at {browser}: {InstallHint}");
        Assert.True(File.Exists(driver), $"The browser tests need chromedriver, which is not at {driver}: {InstallHint}");

        _profile = Path.Combine(Path.GetTempPath(), "rnn-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_profile);
        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=" + _profile, "--window-size=1280,900");
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        ChromeDriverService service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(120));
        Driver.ExecuteCdpCommand("Page.addScriptToEvaluateOnNewDocument", new Dictionary<string, object?> { ["source"] = ErrorCapture });
    }

    public ChromeDriver Driver { get; }

    /// <summary>Everything the page reported as an error: the captured errors and SEVERE entries of the browser log.</summary>
    public List<string> Errors()
    {
        var errors = new List<string>();
        if (Driver.ExecuteScript("return window.__rnnErrors || null;") is IEnumerable<object> captured)
        {
            errors.AddRange(captured.Select(e => e?.ToString() ?? "null"));
        }
        else
        {
            errors.Add("the error capture was not installed (window.__rnnErrors is missing)");
        }

        foreach (LogEntry entry in Driver.Manage().Logs.GetLog(LogType.Browser))
        {
            if (entry.Level >= LogLevel.Severe)
            {
                errors.Add("browser log: " + entry.Message);
            }
        }

        return errors;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // chromium may still hold a lock file for a moment; the profile is in the temp directory.
        }
    }
}
