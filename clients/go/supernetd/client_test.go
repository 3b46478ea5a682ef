package supernetd_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
	"github.com/supernetd/supernetd/clients/go/supernetd"
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

func TestErrorDetailsAreDecodedFromTheStandardStatus(t *testing.T) {
	c := dial(t)
	ctx := context.Background()
	_, err := c.GetExperiment(ctx, &supernetdv1.GetExperimentRequest{ExperimentId: "no-such-experiment"})
	var e *supernetd.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *supernetd.Error, got %v", err)
	}
	if e.Domain() != supernetd.ErrorDomain || e.Metadata()["field"] != "experiment_id" || e.RequestID() == "" {
		t.Errorf("domain %q metadata %v request id %q", e.Domain(), e.Metadata(), e.RequestID())
	}
	exp := createExperiment(t, c)
	_, err = c.SampleSubnet(ctx, &supernetdv1.SampleSubnetRequest{ExperimentId: exp, Count: 65})
	if !errors.As(err, &e) || e.Code() != codes.InvalidArgument || e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_INVALID_ARGUMENT {
		t.Fatalf("count 65: want INVALID_ARGUMENT, got %v", err)
	}
	if e.Metadata()["field"] != "count" || e.Metadata()["limitValue"] != "64" {
		t.Errorf("metadata %v", e.Metadata())
	}
	if v := e.FieldViolations(); len(v) != 1 || v[0].GetField() != "count" || v[0].GetDescription() != e.Message() {
		t.Errorf("field violations %v", v)
	}
}

func TestTrainingWhileATrainStreamRunsIsAborted(t *testing.T) {
	c := dial(t)
	exp := createExperiment(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.Train(ctx, &supernetdv1.TrainRequest{ExperimentId: exp, Steps: 100000, ProgressInterval: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil { // training is running
		t.Fatal(err)
	}
	_, err = c.TrainStep(context.Background(), &supernetdv1.TrainStepRequest{ExperimentId: exp, Input: &supernetdv1.TrainStepRequest_Steps{Steps: 1}})
	cancel()
	var e *supernetd.Error
	if !errors.As(err, &e) || e.Code() != codes.Aborted || e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_TRAINING_IN_PROGRESS {
		t.Fatalf("want ABORTED / TRAINING_IN_PROGRESS, got %v", err)
	}
	for {
		got, err := c.GetExperiment(context.Background(), &supernetdv1.GetExperimentRequest{ExperimentId: exp})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetExperiment().GetState() != supernetdv1.ExperimentState_EXPERIMENT_STATE_TRAINING {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRetryPolicyIsTheServiceConfig(t *testing.T) {
	var cfg struct {
		MethodConfig []struct {
			Name        []struct{ Service, Method string }
			RetryPolicy struct {
				MaxAttempts          int
				RetryableStatusCodes []string
			}
		}
	}
	if err := json.Unmarshal([]byte(supernetd.DefaultRetryPolicy.ServiceConfig()), &cfg); err != nil || len(cfg.MethodConfig) != 1 {
		t.Fatalf("service config: %v %+v", err, cfg)
	}
	methods := map[string]bool{}
	for _, n := range cfg.MethodConfig[0].Name {
		methods[n.Method] = true
	}
	for _, m := range []string{"ReportMetric", "TrainStep", "CreateExperiment", "DeleteExperiment", "GetExperiment", "SampleSubnet"} {
		if !methods[m] {
			t.Errorf("%s is not retried", m)
		}
	}
	if methods["Train"] {
		t.Error("Train is retried; a repeat would train again")
	}
	if p := cfg.MethodConfig[0].RetryPolicy; p.MaxAttempts != 5 || len(p.RetryableStatusCodes) != 1 || p.RetryableStatusCodes[0] != "UNAVAILABLE" {
		t.Errorf("retry policy %+v", p)
	}
}

// lossyProxy is a gRPC server in front of the real one that forwards ReportMetric and, the first
// time, drops the server's reply and answers UNAVAILABLE: a reply lost after the metric was stored.
type lossyProxy struct {
	supernetdv1.UnimplementedSupernetServiceServer
	upstream *supernetd.Client
	mu       sync.Mutex
	ids      []string
}

func (p *lossyProxy) ReportMetric(ctx context.Context, req *supernetdv1.ReportMetricRequest) (*supernetdv1.ReportMetricResponse, error) {
	p.mu.Lock()
	p.ids = append(p.ids, req.GetRequestId())
	first := len(p.ids) == 1
	p.mu.Unlock()
	res, err := p.upstream.ReportMetric(ctx, req)
	if first {
		return nil, status.Error(codes.Unavailable, "the reply was lost")
	}
	return res, err
}

func TestReportMetricRetriedByGRPCIsAppliedOnce(t *testing.T) {
	direct := dial(t)
	ctx := context.Background()
	exp := createExperiment(t, direct)
	sampled, err := direct.SampleSubnet(ctx, &supernetdv1.SampleSubnetRequest{ExperimentId: exp})
	if err != nil {
		t.Fatal(err)
	}
	subnet := sampled.GetSubnets()[0].GetId()

	proxy := &lossyProxy{upstream: dial(t, supernetd.WithRetry(supernetd.RetryPolicy{MaxAttempts: 1}))}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	supernetdv1.RegisterSupernetServiceServer(srv, proxy)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	lossy, err := supernetd.Dial(lis.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lossy.Close() })

	res, err := lossy.ReportMetric(ctx, &supernetdv1.ReportMetricRequest{ExperimentId: exp, SubnetId: subnet, Metrics: map[string]float64{"accuracy": 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	// gRPC retried the call (the service config's retryPolicy) with the same request id
	if len(proxy.ids) != 2 || proxy.ids[0] == "" || proxy.ids[0] != proxy.ids[1] {
		t.Fatalf("attempts carried request ids %q, want the same one twice", proxy.ids)
	}
	metrics, err := direct.ListMetrics(ctx, &supernetdv1.ListMetricsRequest{ExperimentId: exp})
	if err != nil {
		t.Fatal(err)
	}
	if len(metrics.GetRecords()) != 1 || metrics.GetRecords()[0].GetSequence() != res.GetSequence() {
		t.Fatalf("stored %v, answered sequence %d: want one record with that sequence", metrics.GetRecords(), res.GetSequence())
	}
	_, err = direct.ReportMetric(ctx, &supernetdv1.ReportMetricRequest{ExperimentId: exp, SubnetId: subnet, Metrics: map[string]float64{"accuracy": 0.9}, RequestId: proxy.ids[0]})
	var e *supernetd.Error
	if !errors.As(err, &e) || e.Code() != codes.AlreadyExists || e.Reason() != supernetdv1.ErrorReason_ERROR_REASON_REQUEST_ID_REUSED || e.Metadata()["field"] != "request_id" {
		t.Fatalf("reused id with another request: want ALREADY_EXISTS / REQUEST_ID_REUSED, got %v", err)
	}
}

// createExperiment makes a small experiment that the test deletes when it ends.
func createExperiment(t *testing.T, c *supernetd.Client) string {
	t.Helper()
	res, err := c.CreateExperiment(context.Background(), &supernetdv1.CreateExperimentRequest{Spec: &supernetdv1.ExperimentSpec{
		SearchSpace: &supernetdv1.SearchSpace{Preset: "mbv2-small"},
		Strategy:    &supernetdv1.StrategySpec{Id: "uniform"},
		Training:    &supernetdv1.TrainingConfig{BatchSize: 8},
	}})
	if err != nil {
		t.Fatal(err)
	}
	id := res.GetExperiment().GetId()
	t.Cleanup(func() {
		_, _ = c.DeleteExperiment(context.Background(), &supernetdv1.DeleteExperimentRequest{ExperimentId: id})
	})
	return id
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

// Fields with explicit presence are pointers: proto.Float64(0) sends 0, nil takes the default.
func TestExplicitZeroIsSentAndKeptAndAbsentTakesTheDefault(t *testing.T) {
	c := dial(t)
	create := func(tc *supernetdv1.TrainingConfig) *supernetdv1.TrainingConfig {
		t.Helper()
		res, err := c.CreateExperiment(context.Background(), &supernetdv1.CreateExperimentRequest{Spec: &supernetdv1.ExperimentSpec{
			SearchSpace: &supernetdv1.SearchSpace{Preset: "mbv2-small"},
			Strategy:    &supernetdv1.StrategySpec{Id: "uniform"},
			Training:    tc,
		}})
		if err != nil {
			t.Fatal(err)
		}
		id := res.GetExperiment().GetId()
		t.Cleanup(func() {
			_, _ = c.DeleteExperiment(context.Background(), &supernetdv1.DeleteExperimentRequest{ExperimentId: id})
		})
		return res.GetExperiment().GetSpec().GetTraining()
	}
	plain := create(&supernetdv1.TrainingConfig{BatchSize: 8, Momentum: proto.Float64(0), Nesterov: proto.Bool(false), WeightDecay: proto.Float64(0)})
	if plain.Momentum == nil || *plain.Momentum != 0 || plain.Nesterov == nil || *plain.Nesterov || plain.WeightDecay == nil || *plain.WeightDecay != 0 {
		t.Errorf("explicit zeros: got momentum %v nesterov %v weight_decay %v", plain.Momentum, plain.Nesterov, plain.WeightDecay)
	}
	d := create(&supernetdv1.TrainingConfig{BatchSize: 8})
	if d.GetMomentum() != 0.9 || !d.GetNesterov() || d.GetWeightDecay() != 1e-4 {
		t.Errorf("defaults: got momentum %v nesterov %v weight_decay %v", d.GetMomentum(), d.GetNesterov(), d.GetWeightDecay())
	}
}
