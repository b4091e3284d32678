using System.Text;
using System.Text.RegularExpressions;
using AngleSharp.Html.Parser;
using Dashboard.Web.Logs;

namespace Dashboard.Web.Tests.Logs;

public partial class AnsiHtmlConverterTests
{
    private const string Esc = "\x1b";

    /// <summary>security.md D8 corpus plus variants: each must render as inert text and only our own spans.</summary>
    public static TheoryData<string> HostileCorpus => new()
    {
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "\"><svg onload=alert(1)>",
        "'><a href=javascript:alert(1)>x</a>",
        "&lt;script&gt; already encoded &amp;",
        $"{Esc}]8;;javascript:alert(1){Esc}\\click{Esc}]8;;{Esc}\\",
        $"{Esc}]8;;data:text/html,<script>alert(1)</script>\ax{Esc}]8;;\a",
        $"{Esc}]52;c;Y3VybCBldmlsLnRlc3QgfCBzaA==\a",
        $"{Esc}]0;title<script>\a visible",
        $"{Esc}[2J{Esc}[Hfake prompt $ ",
        $"{Esc}[8mhidden text{Esc}[0m",
        $"{Esc}Pq#0;2;0;0;0#1;2;100;100;0{Esc}\\ after dcs",
        $"{Esc}X sos string {Esc}\\ {Esc}^ pm {Esc}\\ {Esc}_ apc {Esc}\\",
        $"{Esc}[" + string.Join(";", Enumerable.Repeat("31", 10_000)) + "mflood",
        $"{Esc}[" + new string('9', 5000) + "m digits",
        $"{Esc}[38;2;999;0;0mbad rgb{Esc}[38;5;300mbad index",
        $"unterminated osc {Esc}]8;;javascript:alert(1)",
        $"unterminated csi {Esc}[31",
        $"lone esc at end {Esc}",
        $"{Esc}[<31m private params {Esc}[?25l cursor {Esc}[>c",
        $"{Esc}(B{Esc})0{Esc}#8{Esc}7{Esc}8{Esc}c charset and reset",
        "\u009b31m c1 csi \u009d8;;javascript:x\u009c c1 osc \u0090dcs\u009c",
        "nul\0 bell\a backspace\b\b\b cr\roverwrite del\u007f",
        "rlo \u202eevil.exe\u202c lri \u2066x\u2069 lrm\u200e bom\ufeff",
        "lone surrogates \ud800 \udfff ok \ud83d\ude00",
        $"{Esc}[31m<b>red</b>{Esc}[0m",
        $"{Esc}[31;<script>m",
        $"{Esc}]8;;https://ok.test{Esc}\\link{Esc}]8;;{Esc}\\",
    };

    [Theory]
    [MemberData(nameof(HostileCorpus))]
    public void ConvertLine_HostileInput_ProducesOnlyEncodedTextAndOwnSpans(string input)
    {
        var html = new AnsiHtmlConverter().ConvertLine(input);

        AssertSafe(html);
    }

    [Fact]
    public void ConvertLine_ScriptTag_IsEncoded()
    {
        var html = new AnsiHtmlConverter().ConvertLine("<script>alert('x')</script> & \"q\"");

        Assert.Equal("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;", html);
    }

    [Fact]
    public void ConvertLine_Osc8Hyperlink_KeepsTextDropsLink()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"{Esc}]8;;javascript:alert(1){Esc}\\click{Esc}]8;;{Esc}\\");

        Assert.Equal("click", html);
    }

    [Fact]
    public void ConvertLine_Osc52Clipboard_IsRemovedEntirely()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"a{Esc}]52;c;ZXZpbA==\ab");

        Assert.Equal("ab", html);
    }

    [Fact]
    public void ConvertLine_NonSgrCsi_IsStripped()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"{Esc}[2J{Esc}[10;20H{Esc}[?1049hdone{Esc}[K");

        Assert.Equal("done", html);
    }

    [Fact]
    public void ConvertLine_SgrForeground_BecomesClassSpan()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"{Esc}[1;31merror{Esc}[0m ok");

        Assert.Equal("<span class=\"ansi-fg-1 ansi-bold\">error</span> ok", html);
    }

    [Fact]
    public void ConvertLine_TrueColorAnd256_BecomeInlineStyle()
    {
        var converter = new AnsiHtmlConverter();

        Assert.Equal("<span style=\"color:#0a141e\">x</span>", converter.ConvertLine($"{Esc}[38;2;10;20;30mx{Esc}[0m"));
        Assert.Equal("<span style=\"background-color:#ff0000\">y</span>", converter.ConvertLine($"{Esc}[48;5;196my{Esc}[0m"));
        Assert.Equal("<span style=\"color:#0a141e\">z</span>", converter.ConvertLine($"{Esc}[38:2::10:20:30mz{Esc}[0m"));
    }

    [Fact]
    public void ConvertLine_BrightColors_MapToUpperPalette()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"{Esc}[92;104mx");

        Assert.Equal("<span class=\"ansi-fg-10 ansi-bg-12\">x</span>", html);
    }

    [Fact]
    public void ConvertLine_StyleCarriesAcrossLines_UntilReset()
    {
        var converter = new AnsiHtmlConverter();

        var first = converter.ConvertLine($"{Esc}[32mgreen");
        var second = converter.ConvertLine("still green");
        var third = converter.ConvertLine($"{Esc}[0mplain");

        Assert.Equal("<span class=\"ansi-fg-2\">green</span>", first);
        Assert.Equal("<span class=\"ansi-fg-2\">still green</span>", second);
        Assert.Equal("plain", third);
    }

    [Fact]
    public void ConvertLine_ConcealAttribute_IsIgnoredSoTextStaysVisible()
    {
        var html = new AnsiHtmlConverter().ConvertLine($"{Esc}[8msecret");

        Assert.Equal("secret", html);
    }

    [Fact]
    public void ConvertLine_CsiFlood_StaysLinearAndBounded()
    {
        var input = $"{Esc}[" + string.Join(";", Enumerable.Repeat("1", 200_000)) + "mx";

        var html = new AnsiHtmlConverter().ConvertLine(input);

        Assert.Equal("<span class=\"ansi-bold\">x</span>", html);
    }

    [Fact]
    public void ConvertLine_ControlsAndBidi_AreDropped()
    {
        var html = new AnsiHtmlConverter().ConvertLine("a\0b\rc\bd\u202ee\u0085f\tg");

        Assert.Equal("abcdef\tg", html);
    }

    [Fact]
    public void ConvertLine_LoneSurrogate_BecomesReplacementCharacter()
    {
        var html = new AnsiHtmlConverter().ConvertLine("x\ud800y\ud83d\ude00");

        Assert.Equal("x\ufffdy\ud83d\ude00", html);
    }

    [Fact]
    public void ConvertLine_HugeLine_OutputIsProportional()
    {
        var input = new string('<', 1_000_000);

        var html = new AnsiHtmlConverter().ConvertLine(input);

        Assert.Equal(4_000_000, html.Length);
        AssertSafe(html[..4000]);
    }

    [Fact]
    public void ToPlainText_StripsEverySequence()
    {
        var text = AnsiHtmlConverter.ToPlainText($"{Esc}[31mred{Esc}[0m {Esc}]0;t\a<b>\u202e");

        Assert.Equal("red <b>", text);
    }

    private static void AssertSafe(string html)
    {
        var document = new HtmlParser().ParseDocument("<html><body><div id=\"root\">" + html + "</div></body></html>");
        var root = document.GetElementById("root")!;
        foreach (var element in root.QuerySelectorAll("*"))
        {
            Assert.Equal("SPAN", element.TagName);
            foreach (var attribute in element.Attributes)
            {
                switch (attribute.Name)
                {
                    case "class":
                        Assert.Matches(ClassValue(), attribute.Value);
                        break;
                    case "style":
                        Assert.Matches(StyleValue(), attribute.Value);
                        break;
                    default:
                        Assert.Fail($"unexpected attribute {attribute.Name}");
                        break;
                }
            }
        }

        Assert.Equal(1, document.QuerySelectorAll("div").Length);
        var text = root.TextContent;
        Assert.DoesNotContain(text, c => (c < 0x20 && c != '\t') || (c >= 0x7f && c < 0xa0) || c is '\u202e' or '\u2066');
        Assert.DoesNotContain("\x1b", html, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(html) >= 0);
    }

    [GeneratedRegex("^ansi-[a-z]+(-[0-9]+)?( ansi-[a-z]+(-[0-9]+)?)*$")]
    private static partial Regex ClassValue();

    [GeneratedRegex("^(color|background-color):#[0-9a-f]{6}(;(color|background-color):#[0-9a-f]{6})?$")]
    private static partial Regex StyleValue();
}
