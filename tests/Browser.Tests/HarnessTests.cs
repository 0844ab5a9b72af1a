namespace RnnEmbedded.Tests.Browser;

/// <summary>The browser harness itself: its checks can fail.</summary>
public sealed class HarnessTests
{
    [Fact]
    public void Chromium_Missing_FailsWithTheInstallCommand()
    {
        string nowhere = Path.Combine(Path.GetTempPath(), "rnn-no-such-browser-" + Guid.NewGuid().ToString("N"));

        Exception e = Assert.ThrowsAny<Exception>(() => new Chromium(nowhere, "/usr/bin/chromedriver"));

        Assert.Contains($"not at {nowhere}", e.Message);
        Assert.Contains("apt-get update && apt-get install -y chromium chromium-driver", e.Message);
    }

    [Fact]
    public void Errors_CatchesUncaughtErrorsAndConsoleErrors()
    {
        string page = Path.Combine(Path.GetTempPath(), "rnn-error-page-" + Guid.NewGuid().ToString("N") + ".html");
        File.WriteAllText(page, "<!DOCTYPE html><title>t</title><script>console.error('logged'); null.boom();</script>");
        using var chromium = new Chromium();

        chromium.Driver.Navigate().GoToUrl(new Uri(page).AbsoluteUri);

        List<string> errors = chromium.Errors();
        Assert.Contains(errors, e => e.StartsWith("console.error: logged", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("error: ", StringComparison.Ordinal) && e.Contains("null", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("browser log: ", StringComparison.Ordinal));
    }
}
