using Dashboard.Web.Security;

namespace Dashboard.Web.Tests.Security;

public class AuditCsvTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://evil.test\")", "\"'=HYPERLINK(\"\"http://evil.test\"\")\"")]
    [InlineData("+1+1", "'+1+1")]
    [InlineData("-2", "'-2")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("line\nbreak", "\"line\nbreak\"")]
    [InlineData("plain", "plain")]
    public void Cell_AttackerControlledText_IsInert(string value, string expected)
    {
        Assert.Equal(expected, AuditCsv.Cell(value));
    }

    [Fact]
    public void Write_Entries_OneRowEachWithHeader()
    {
        var csv = AuditCsv.Write([new AuditEntry(DateTimeOffset.UnixEpoch, "bob", "StopContainer", "container local/c1", AuditOutcome.Denied, null)]);

        Assert.Equal("time,user,action,target,outcome,detail\r\n1970-01-01T00:00:00.0000000+00:00,bob,StopContainer,container local/c1,Denied,\r\n", csv);
    }
}
