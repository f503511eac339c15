namespace UserApp.Client;

/// <summary>A user, and which instance served it.</summary>
public sealed record UserDto(int Id, string Name, ServedBy ServedBy);
