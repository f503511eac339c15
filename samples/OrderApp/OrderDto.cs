using UserApp.Client;

namespace OrderApp;

/// <summary>An order with the instance that served it and the user fetched from user-app.</summary>
public sealed record OrderDto(int Id, ServedBy ServedBy, UserDto User);
