using Grpc.Core;
using GrayRelease;
using Microsoft.Extensions.Options;
using UserApp.Grpc;

namespace UserApp;

/// <summary>GET /users/{id} over gRPC: the user and which instance answered (version, port, lane).</summary>
internal sealed class UsersService(IOptionsMonitor<GrayReleaseOptions> gray) : Users.UsersBase
{
    public override Task<UserReply> GetUser(GetUserRequest request, ServerCallContext context)
    {
        var options = gray.CurrentValue;
        return Task.FromResult(new UserReply
        {
            Id = request.Id,
            Name = $"user-{request.Id}",
            Service = "user-app",
            Version = options.Version ?? "none",
            Port = context.GetHttpContext().Connection.LocalPort,
            Lane = options.Lane ?? string.Empty,
        });
    }
}
