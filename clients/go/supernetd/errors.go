package supernetd

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	supernetdv1 "supernetd.dev/client/go/gen/supernetd/v1"
)

// ErrorReasonKey is the trailing metadata key in which the server names a failed call's ErrorReason.
const ErrorReasonKey = "supernetd-error-reason"

// Error is a failed supernetd call: its gRPC status and the server's ErrorReason.
// Every error returned by a Client's calls is an *Error (match it with errors.As).
type Error struct {
	status     *status.Status
	reason     supernetdv1.ErrorReason
	reasonName string
}

// Code is the gRPC status code.
func (e *Error) Code() codes.Code { return e.status.Code() }

// Reason is the ErrorReason the server sent; ERROR_REASON_UNSPECIFIED when it sent none (for
// example when the connection failed) or a name this client does not know.
func (e *Error) Reason() supernetdv1.ErrorReason { return e.reason }

// ReasonName is the reason's name exactly as sent, kept for reasons newer than this client.
func (e *Error) ReasonName() string { return e.reasonName }

// Message is the server's human-readable message.
func (e *Error) Message() string { return e.status.Message() }

// GRPCStatus lets status.FromError and status.Code see through the wrapper.
func (e *Error) GRPCStatus() *status.Status { return e.status }

func (e *Error) Error() string {
	name := e.reasonName
	if name == "" {
		name = e.reason.String()
	}
	return fmt.Sprintf("supernetd: %s (%s): %s", e.status.Code(), name, e.status.Message())
}

// newError converts a call's error and trailers; nil stays nil and an *Error is returned as is.
func newError(err error, trailer metadata.MD) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return already
	}
	st, ok := status.FromError(err)
	if !ok {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			st = status.New(codes.DeadlineExceeded, err.Error())
		case errors.Is(err, context.Canceled):
			st = status.New(codes.Canceled, err.Error())
		default:
			st = status.New(codes.Unknown, err.Error())
		}
	}
	e := &Error{status: st}
	if values := trailer.Get(ErrorReasonKey); len(values) > 0 {
		e.reasonName = values[0]
		e.reason = supernetdv1.ErrorReason(supernetdv1.ErrorReason_value[values[0]])
	}
	return e
}
