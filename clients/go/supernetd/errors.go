package supernetd

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
)

// ErrorDomain is the google.rpc.ErrorInfo domain of every supernetd error.
const ErrorDomain = "supernetd.dev"

// Error is a failed supernetd call: its gRPC status and the error details the server sent as a
// google.rpc.Status (grpc-status-details-bin), decoded with status.FromError(err).Details().
// Every error returned by a Client's calls is an *Error (match it with errors.As).
type Error struct {
	status     *status.Status
	reason     supernetdv1.ErrorReason
	reasonName string
	info       *errdetails.ErrorInfo
	violations []*errdetails.BadRequest_FieldViolation
	requestID  string
}

// Code is the gRPC status code.
func (e *Error) Code() codes.Code { return e.status.Code() }

// Reason is the ErrorReason of the status's ErrorInfo; ERROR_REASON_UNSPECIFIED when there was
// none (for example when the connection failed) or a name this client does not know.
func (e *Error) Reason() supernetdv1.ErrorReason { return e.reason }

// ReasonName is the reason's name exactly as sent, kept for reasons newer than this client.
func (e *Error) ReasonName() string { return e.reasonName }

// Domain is the ErrorInfo domain (ErrorDomain), empty without details.
func (e *Error) Domain() string { return e.info.GetDomain() }

// Metadata is the ErrorInfo metadata: "field" (the request field's proto path), "limit" and
// "limitValue" (a limit's name and value) where they apply; nil without details.
func (e *Error) Metadata() map[string]string { return e.info.GetMetadata() }

// FieldViolations are the BadRequest field violations (INVALID_ARGUMENT).
func (e *Error) FieldViolations() []*errdetails.BadRequest_FieldViolation { return e.violations }

// RequestID is the id the server logged the call under (RequestInfo), empty without one.
func (e *Error) RequestID() string { return e.requestID }

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

// newError converts a call's error; nil stays nil and an *Error is returned as is.
func newError(err error) error {
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
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			if e.info == nil {
				e.info = d
				e.reasonName = d.GetReason()
				e.reason = supernetdv1.ErrorReason(supernetdv1.ErrorReason_value[d.GetReason()])
			}
		case *errdetails.BadRequest:
			e.violations = append(e.violations, d.GetFieldViolations()...)
		case *errdetails.RequestInfo:
			e.requestID = d.GetRequestId()
		}
	}
	return e
}
