using System.Globalization;
using System.Text;

namespace Dashboard.Web.Security;

/// <summary>
/// RFC 4180 CSV of audit entries. Cells that a spreadsheet would run as a formula (leading = + - @, tab, CR)
/// get a leading apostrophe: user names, targets and engine messages are attacker-influenced (CSV injection).
/// </summary>
public static class AuditCsv
{
    public static string Write(IEnumerable<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var sb = new StringBuilder("time,user,action,target,outcome,detail\r\n");
        foreach (var e in entries)
        {
            sb.Append(Cell(e.Time.ToString("O", CultureInfo.InvariantCulture))).Append(',')
                .Append(Cell(e.User)).Append(',')
                .Append(Cell(e.Action)).Append(',')
                .Append(Cell(e.Target)).Append(',')
                .Append(Cell(e.Outcome.ToString())).Append(',')
                .Append(Cell(e.Detail ?? "")).Append("\r\n");
        }

        return sb.ToString();
    }

    public static string Cell(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
