using Refit;

namespace UserApp.Client;

/// <summary>user-app's API, called by service name (<c>http://user-app</c>) through a gray-aware HttpClient.</summary>
public interface IUserApi
{
    /// <summary>Gets a user, with the instance that served it.</summary>
    [Get("/users/{id}")]
    Task<UserDto> GetUserAsync(int id, CancellationToken cancellationToken = default);
}
