namespace GrayRelease;

/// <summary>Placeholder.</summary>
public static class Placeholder
{
}
