using Google.Protobuf;
using Grpc.Core;
using GrayRelease.Nacos.Grpc.Protocol;

namespace GrayRelease.Nacos.Grpc;

/// <summary>
/// The two methods of nacos_grpc_service.proto. The proto declares no package, so the paths are
/// <c>/Request/request</c> and <c>/BiRequestStream/requestBiStream</c> (PROTOCOL-GRPC.md §1).
/// </summary>
internal static class NacosGrpcMethods
{
    public static readonly Marshaller<Payload> PayloadMarshaller =
        Marshallers.Create(static payload => payload.ToByteArray(), static bytes => Payload.Parser.ParseFrom(bytes));

    /// <summary>Every client request: ServerCheck, HealthCheck, naming and config calls.</summary>
    public static readonly Method<Payload, Payload> Request =
        new(MethodType.Unary, "Request", "request", PayloadMarshaller, PayloadMarshaller);

    /// <summary>The long-lived stream: the setup, then server requests and the client's answers.</summary>
    public static readonly Method<Payload, Payload> RequestBiStream =
        new(MethodType.DuplexStreaming, "BiRequestStream", "requestBiStream", PayloadMarshaller, PayloadMarshaller);
}
