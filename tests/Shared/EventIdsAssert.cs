using System.Reflection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace GrayRelease.Testing;

/// <summary>
/// Checks a package's <c>Log</c> class against its <c>EventIds</c> class (STYLE.md: event ids as named constants, in bands):
/// users filter and alert on event ids, so two lines on one id, or an id written as a bare number, are defects.
/// </summary>
internal static class EventIdsAssert
{
    public static void EachLogLineHasItsOwnNamedId(Type log, Type eventIds)
    {
        var constants = eventIds.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .ToDictionary(f => f.Name, f => (int)f.GetRawConstantValue()!, StringComparer.Ordinal);
        var lines = log.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Select(m => (m.Name, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(l => l.Attribute is not null)
            .ToDictionary(l => l.Name, l => l.Attribute!.EventId, StringComparer.Ordinal);

        Assert.NotEmpty(lines);
        var shared = lines.GroupBy(l => l.Value).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(l => l.Key).Order(StringComparer.Ordinal))}");
        Assert.Empty(shared);
        // Each line carries the constant named after it, and no constant outlives its line (a retired id stays a comment).
        Assert.Equal(
            constants.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} = {c.Value}"),
            lines.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key} = {l.Value}"));
    }
}
