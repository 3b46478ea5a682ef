package supernetd_test

import (
	"context"

	"google.golang.org/grpc"
)

// countingInterceptor counts the attempts that reach the transport (it runs after the client's
// own retrying interceptor in the chain).
func countingInterceptor(n *int) grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		*n++
		return invoker(ctx, method, req, reply, cc, opts...)
	})
}
