package supernetd_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	supernetdv1 "supernetd.dev/client/go/gen/supernetd/v1"
	"supernetd.dev/client/go/supernetd"
)

// dial connects to the harness's server as DialEnv does: its address, token and CA from the
// environment.
func dial(t *testing.T, opts ...supernetd.Option) *supernetd.Client {
	t.Helper()
	serverAddress(t)
	c, err := supernetd.DialEnv(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func serverAddress(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("SUPERNETD_ADDR")
	if addr == "" {
		if os.Getenv("SUPERNETD_REQUIRE_SERVER") != "" {
			t.Fatal("SUPERNETD_ADDR is not set")
		}
		t.Skip("SUPERNETD_ADDR is not set; run clients/run-tests.sh")
	}
	return addr
}

func TestUnknownExperimentIsNotFoundWithReason(t *testing.T) {
	c := dial(t)
	_, err := c.GetExperiment(context.Background(), &supernetdv1.GetExperimentRequest{ExperimentId: "no-such-experiment"})
	var e *supernetd.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *supernetd.Error, got %T %v", err, err)
	}
	if e.Code() != codes.NotFound || status.Code(err) != codes.NotFound {
		t.Errorf("code %s", e.Code())
	}
	if e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_EXPERIMENT_NOT_FOUND {
		t.Errorf("reason %s (sent %q)", e.Reason(), e.ReasonName())
	}
	if !strings.Contains(e.Error(), "ERROR_REASON_EXPERIMENT_NOT_FOUND") {
		t.Errorf("message %q does not name the reason", e.Error())
	}
}

func TestStreamErrorsCarryTheReason(t *testing.T) {
	c := dial(t)
	_, err := c.Export(context.Background(), &supernetdv1.ExportSubnetRequest{
		ExperimentId: "no-such-experiment", Target: &supernetdv1.ExportSubnetRequest_Constraint{Constraint: supernetd.Flops(1e7)},
	})
	var e *supernetd.Error
	if !errors.As(err, &e) || e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_EXPERIMENT_NOT_FOUND {
		t.Fatalf("want EXPERIMENT_NOT_FOUND, got %v", err)
	}
}

func TestUnavailableIsRetriedThenReturned(t *testing.T) {
	// Nothing listens on loopback port 1: every attempt fails with UNAVAILABLE.
	policy := supernetd.RetryPolicy{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Multiplier: 2}
	attempts := 0
	c, err := supernetd.Dial("127.0.0.1:1", supernetd.WithRetry(policy), supernetd.WithTimeout(10*time.Second),
		supernetd.WithDialOptions(countingInterceptor(&attempts)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.ListStrategies(context.Background(), &supernetdv1.ListStrategiesRequest{})
	var e *supernetd.Error
	if !errors.As(err, &e) || e.Code() != codes.Unavailable {
		t.Fatalf("want UNAVAILABLE, got %v", err)
	}
	if attempts != 3 {
		t.Errorf("attempts = %d, want 3", attempts)
	}
}

func TestCallWithoutTheTokenIsUnauthenticated(t *testing.T) {
	serverAddress(t)
	if os.Getenv("SUPERNETD_TOKEN") == "" {
		t.Skip("the server was started without a token")
	}
	c := dial(t, supernetd.WithToken(""))
	_, err := c.ListExperiments(context.Background(), &supernetdv1.ListExperimentsRequest{})
	var e *supernetd.Error
	if !errors.As(err, &e) || e.Code() != codes.Unauthenticated || e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_UNAUTHENTICATED {
		t.Fatalf("want UNAUTHENTICATED, got %v", err)
	}
}
