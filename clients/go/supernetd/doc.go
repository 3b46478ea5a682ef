// Package supernetd is the Go client of supernetd.
//
// The generated messages and stub are in github.com/supernetd/supernetd/clients/go/gen/supernetd/v1; this package
// adds a connection with optional TLS and a bearer token, a default deadline on every call,
// gRPC's own retries of UNAVAILABLE for the safe calls (a service-config retryPolicy), request ids
// on the calls that change state, errors that expose the server's google.rpc.Status details
// (ErrorReason, metadata, field violations), helpers between Go slices and Tensor messages, and an
// export collector.
//
//	c, err := supernetd.Dial("127.0.0.1:50051", supernetd.WithToken(token))
//	exp, err := c.GetExperiment(ctx, &supernetdv1.GetExperimentRequest{ExperimentId: "x"})
//	var e *supernetd.Error
//	if errors.As(err, &e) && e.Reason() == supernetdv1.ErrorReason_ERROR_REASON_EXPERIMENT_NOT_FOUND { ... }
package supernetd
