using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Compiler.Reference;
using RnnEmbedded.Tests.Tool;
using CliApp = RnnEmbedded.Cli.Cli;

namespace RnnEmbedded.Tests.Browser;

/// <summary>The page <c>rnn visualize</c> writes, opened in a real (headless) chromium.</summary>
public sealed class VisualizePageTests
{
    // The palette ends (docs/cli.md): the character where a cell reaches its largest |value| gets one of them.
    private const string MostPositive = "rgb(178, 24, 43)";
    private const string MostNegative = "rgb(33, 102, 172)";

    [Fact]
    public void Page_ShadesByTheChosenCell_PickerAndRankedCellsChangeIt_NoConsoleErrors()
    {
        ModelSpec spec = CharModels.Lstm(hidden: 12, layers: 2);
        string page = Generate(spec, CharModels.SampleText);
        using var chromium = new Chromium();
        IWebDriver driver = chromium.Driver;
        driver.Navigate().GoToUrl(new Uri(page).AbsoluteUri);
        int length = CharModels.SampleText.Length;
        Wait(driver).Until(d => d.FindElements(By.CssSelector("#text .ch")).Count == length);

        // The page opens on a cell; its shading follows the engine: the extreme character gets the palette's end.
        (int layer, string kind, int cell) = Picked(driver);
        string[] first = Shading(driver);
        Assert.True(first.Distinct().Count() > 5, "the opening cell shades the text with a single colour: " + string.Join(" ", first.Distinct()));
        AssertExtremeCharacterHasPaletteEnd(driver, spec, layer, kind, cell);

        // Another cell through the picker (type an index, leave the field): the shading changes.
        IWebElement index = driver.FindElement(By.Id("cell"));
        int other = (cell + 5) % 12;
        index.Clear();
        index.SendKeys(other.ToString(System.Globalization.CultureInfo.InvariantCulture));
        index.SendKeys(Keys.Tab);
        Assert.Equal((layer, kind, other), Picked(driver));
        string[] second = Shading(driver);
        Assert.NotEqual(first, second);
        AssertExtremeCharacterHasPaletteEnd(driver, spec, layer, kind, other);

        // Keyboard: "]" moves to the next cell, "." to the next layer (from the page, not a form field).
        driver.FindElement(By.TagName("body")).Click();
        new OpenQA.Selenium.Interactions.Actions(driver).SendKeys("]").Perform();
        Assert.Equal((layer, kind, (other + 1) % 12 == 0 ? 11 : other + 1), Picked(driver));

        // The state selector switches h and c.
        string otherKind = kind == "h" ? "c" : "h";
        new SelectElement(driver.FindElement(By.Id("kind"))).SelectByValue(otherKind);
        Assert.Equal(otherKind, Picked(driver).Kind);
        Assert.NotEqual(second, Shading(driver));

        // A ranked cell: clicking it selects it in the picker, marks it pressed and shades by it.
        IWebElement ranked = driver.FindElements(By.CssSelector("section[data-feature='column'] .cellbtn"))
            .First(b => (Attr(b, "data-layer"), Attr(b, "data-kind"), Attr(b, "data-cell")) != Current(driver));
        (string rLayer, string rKind, string rCell) = (Attr(ranked, "data-layer"), Attr(ranked, "data-kind"), Attr(ranked, "data-cell"));
        string[] before = Shading(driver);
        ranked.Click();
        Assert.Equal((rLayer, rKind, rCell), Current(driver));
        Assert.Equal("true", Attr(ranked, "aria-pressed"));
        Assert.NotEqual(before, Shading(driver));
        Assert.EndsWith($"#L{rLayer}{rKind}{rCell}", driver.Url, StringComparison.Ordinal);
        AssertExtremeCharacterHasPaletteEnd(driver, spec, int.Parse(rLayer), rKind, int.Parse(rCell));

        // Hovering a character reads its value out.
        new OpenQA.Selenium.Interactions.Actions(driver).MoveToElement(driver.FindElement(By.CssSelector("#text .ch[data-i='3']"))).Perform();
        Assert.Contains($"character 4 · line 1, column 3 · L{rLayer} {rKind}[{rCell}] = ", driver.FindElement(By.Id("hover")).Text);

        Assert.Empty(chromium.Errors());
    }

    [Fact]
    public void Page_TruncatedTextAndSkippedCharacters_AreAnnounced_AndLinkOpensOnACell()
    {
        ModelSpec spec = CharModels.Lstm(hidden: 8, layers: 1);
        string page = Generate(spec, "Tab\there {braces} " + CharModels.SampleText, "--max-chars", "60");
        using var chromium = new Chromium();
        IWebDriver driver = chromium.Driver;
        driver.Navigate().GoToUrl(new Uri(page).AbsoluteUri + "#L0c6");
        Wait(driver).Until(d => d.FindElements(By.CssSelector("#text .ch")).Count == 60);

        string notice = driver.FindElement(By.Id("notice")).Text;
        Assert.Contains("Showing the first 60 of ", notice);
        Assert.Contains("3 characters are not in the model's vocabulary ('\\t' ×1, '{' ×1, '}' ×1)", notice);
        Assert.Equal(3, driver.FindElements(By.CssSelector("#text .ch.skip")).Count);
        Assert.Equal(("0", "c", "6"), Current(driver));
        Assert.Equal(["h", "c"], new SelectElement(driver.FindElement(By.Id("kind"))).Options.Select(o => o.GetAttribute("value")));
        Assert.Empty(chromium.Errors());
    }

    private static string Generate(ModelSpec spec, string text, params string[] extra)
    {
        string directory = Path.Combine(Path.GetTempPath(), "rnn-browser-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        string model = Path.Combine(directory, "model.safetensors");
        ModelWriter.WriteFile(model, spec);
        string textPath = Path.Combine(directory, "text.txt");
        File.WriteAllText(textPath, text);
        string page = Path.Combine(directory, "page.html");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApp.Run(["visualize", model, "--text", textPath, "--out", page, .. extra], output, error);
        Assert.True(code == 0, error.ToString());
        return page;
    }

    /// <summary>
    /// Runs the engine over the page's text and checks that the character where the cell's |value| peaks is painted
    /// with the palette's end of the right sign — the C# trace, the encoding and the page's colouring agree.
    /// </summary>
    private static void AssertExtremeCharacterHasPaletteEnd(IWebDriver driver, ModelSpec spec, int layer, string kind, int cell)
    {
        var engine = new ReferenceEngine(spec);
        var output = new float[spec.OutputSize];
        var h = new float[spec.Layers[layer].StateSize];
        var c = new float[spec.Layers[layer].Cell == CellKind.Lstm ? spec.Layers[layer].HiddenSize : 0];
        int peak = -1;
        float peakValue = 0f;
        for (int t = 0; t < CharModels.SampleText.Length; t++)
        {
            engine.Step(CharModels.Characters.IndexOf(CharModels.SampleText[t], StringComparison.Ordinal), output);
            engine.CopyLayerState(layer, h, c);
            float v = kind == "h" ? h[cell] : c[cell];
            if (Math.Abs(v) > Math.Abs(peakValue))
            {
                (peak, peakValue) = (t, v);
            }
        }

        string colour = driver.FindElement(By.CssSelector($"#text .ch[data-i='{peak}']")).GetCssValue("background-color");
        Assert.Equal(peakValue > 0 ? MostPositive : MostNegative, colour.Replace("rgba", "rgb").Replace(", 1)", ")"));
    }

    private static string[] Shading(IWebDriver driver) =>
        ((IEnumerable<object>)((IJavaScriptExecutor)driver).ExecuteScript(
            "return Array.from(document.querySelectorAll('#text .ch')).map(s => getComputedStyle(s).backgroundColor);")!)
        .Select(o => (string)o).ToArray();

    private static (int Layer, string Kind, int Cell) Picked(IWebDriver driver)
    {
        (string layer, string kind, string cell) = Current(driver);
        return (int.Parse(layer), kind, int.Parse(cell));
    }

    private static (string Layer, string Kind, string Cell) Current(IWebDriver driver) =>
        (Value(driver, "layer"), Value(driver, "kind"), Value(driver, "cell"));

    private static string Value(IWebDriver driver, string id) =>
        (string)((IJavaScriptExecutor)driver).ExecuteScript($"return document.getElementById('{id}').value;")!;

    private static string Attr(IWebElement element, string name) => element.GetAttribute(name) ?? "";

    private static WebDriverWait Wait(IWebDriver driver) => new(driver, TimeSpan.FromSeconds(30));
}
