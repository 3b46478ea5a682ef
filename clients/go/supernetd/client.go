package supernetd

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
)

// DefaultAddress is used by DialEnv when SUPERNETD_ADDR is unset.
const DefaultAddress = "127.0.0.1:50051"

// RetryPolicy is the retryPolicy of the channel's service config (grpc.WithDefaultServiceConfig):
// gRPC itself retries the calls in RetriedMethods that fail with UNAVAILABLE, backing off
// exponentially with jitter. MaxAttempts counts the first try (gRPC caps it at 5); 1 disables retries.
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryPolicy makes up to five attempts, backing off from 100 ms to at most 5 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2}

// RetriedMethods are the SupernetService calls gRPC may retry: the idempotent ones, and those that
// carry a request_id (the client fills one when it is empty, and a retry resends the same message,
// so the server applies it once). Train is never retried: a repeat would train again.
var RetriedMethods = []string{
	"GetExperiment", "ListExperiments", "ListStrategies", "SampleSubnet", "ListMetrics", "Evaluate", "ExportSubnet",
	"CreateExperiment", "DeleteExperiment", "ReportMetric", "TrainStep",
}

// ServiceConfig is the JSON service config carrying the policy, as Dial installs it.
func (p RetryPolicy) ServiceConfig() string {
	type name struct {
		Service string `json:"service"`
		Method  string `json:"method"`
	}
	type retry struct {
		MaxAttempts          int      `json:"maxAttempts"`
		InitialBackoff       string   `json:"initialBackoff"`
		MaxBackoff           string   `json:"maxBackoff"`
		BackoffMultiplier    float64  `json:"backoffMultiplier"`
		RetryableStatusCodes []string `json:"retryableStatusCodes"`
	}
	type methodConfig struct {
		Name        []name `json:"name"`
		RetryPolicy *retry `json:"retryPolicy,omitempty"`
	}
	cfg := struct {
		MethodConfig []methodConfig `json:"methodConfig"`
	}{MethodConfig: []methodConfig{}}
	if p.MaxAttempts > 1 {
		mc := methodConfig{RetryPolicy: &retry{
			MaxAttempts:          p.MaxAttempts,
			InitialBackoff:       fmt.Sprintf("%gs", p.InitialBackoff.Seconds()),
			MaxBackoff:           fmt.Sprintf("%gs", p.MaxBackoff.Seconds()),
			BackoffMultiplier:    p.Multiplier,
			RetryableStatusCodes: []string{"UNAVAILABLE"},
		}}
		for _, m := range RetriedMethods {
			mc.Name = append(mc.Name, name{Service: "supernetd.v1.SupernetService", Method: m})
		}
		cfg.MethodConfig = append(cfg.MethodConfig, mc)
	}
	out, _ := json.Marshal(cfg)
	return string(out)
}

// NewRequestID is a fresh request id (a random UUID), as the client makes for each call that
// takes one and has none.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

type options struct {
	tls         *tls.Config
	token       string
	timeout     time.Duration
	retry       RetryPolicy
	dialOptions []grpc.DialOption
}

// Option configures Dial.
type Option func(*options)

// WithTLS connects over TLS with the given configuration (nil: system roots).
func WithTLS(cfg *tls.Config) Option {
	return func(o *options) {
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		o.tls = cfg
	}
}

// WithToken sends `authorization: Bearer <token>` with every call.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTimeout sets the deadline of calls whose context has none (default 2 minutes; 0: none).
// Train streams get no default deadline.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithRetry replaces DefaultRetryPolicy (the service config's retryPolicy); MaxAttempts 1 disables retries.
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithDialOptions adds grpc.DialOptions (interceptors, keepalive, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Client is a connection to one supernetd server. It embeds the generated SupernetServiceClient,
// so every RPC is a method; each gets the default deadline and returns *Error on failure. gRPC
// retries the RetriedMethods on UNAVAILABLE (RetryPolicy); CreateExperiment, DeleteExperiment,
// ReportMetric and TrainStep get a fresh request_id when theirs is empty (set on a copy, the same
// on every retry), so the server applies each at most once.
type Client struct {
	supernetdv1.SupernetServiceClient
	conn *grpc.ClientConn
	opts options
}

// Dial creates a client of the server at target (`host:port`). The connection is made lazily.
func Dial(target string, opts ...Option) (*Client, error) {
	o := options{timeout: 2 * time.Minute, retry: DefaultRetryPolicy}
	for _, opt := range opts {
		opt(&o)
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(o.unaryInterceptor),
		grpc.WithChainStreamInterceptor(o.streamInterceptor),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
		grpc.WithDefaultServiceConfig(o.retry.ServiceConfig()),
	}
	if o.token != "" {
		dial = append(dial, grpc.WithPerRPCCredentials(bearer{token: o.token, secure: o.tls != nil}))
	}
	conn, err := grpc.NewClient(target, append(dial, o.dialOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("supernetd: dial %s: %w", target, err)
	}
	return &Client{SupernetServiceClient: supernetdv1.NewSupernetServiceClient(conn), conn: conn, opts: o}, nil
}

// DialEnv dials $SUPERNETD_ADDR (default DefaultAddress) with $SUPERNETD_TOKEN when set and
// over TLS trusting $SUPERNETD_TLS_CA when set, then applies opts (which win).
func DialEnv(opts ...Option) (*Client, error) {
	addr := os.Getenv("SUPERNETD_ADDR")
	if addr == "" {
		addr = DefaultAddress
	}
	var env []Option
	if token := os.Getenv("SUPERNETD_TOKEN"); token != "" {
		env = append(env, WithToken(token))
	}
	if ca := os.Getenv("SUPERNETD_TLS_CA"); ca != "" {
		cfg, err := TLSConfigFromCAFile(ca)
		if err != nil {
			return nil, err
		}
		env = append(env, WithTLS(cfg))
	}
	return Dial(addr, append(env, opts...)...)
}

// TLSConfigFromCAFile is a TLS configuration trusting the PEM certificates in path.
func TLSConfigFromCAFile(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("supernetd: read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("supernetd: no PEM certificates in %s", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Conn is the underlying connection (for the health service, reflection, ...).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

func (o *options) withDefaultDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || o.timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, o.timeout)
}

// idempotent is a request with a request_id field (the generated getter, and a setter here).
type idempotent interface {
	proto.Message
	GetRequestId() string
}

// withRequestID is req, or a copy of it with a fresh request_id when it takes one and has none.
func withRequestID(req any) any {
	r, ok := req.(idempotent)
	if !ok || r.GetRequestId() != "" {
		return req
	}
	id := NewRequestID()
	switch c := proto.Clone(r).(type) {
	case *supernetdv1.CreateExperimentRequest:
		c.RequestId = id
		return c
	case *supernetdv1.DeleteExperimentRequest:
		c.RequestId = id
		return c
	case *supernetdv1.ReportMetricRequest:
		c.RequestId = id
		return c
	case *supernetdv1.TrainStepRequest:
		c.RequestId = id
		return c
	}
	return req
}

func (o *options) unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
	ctx, cancel := o.withDefaultDeadline(ctx)
	defer cancel()
	// retries happen below interceptors (the service config), so every attempt sends this message
	return newError(invoker(ctx, method, withRequestID(req), reply, cc, callOpts...))
}

func (o *options) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, callOpts...)
	if err != nil {
		return nil, newError(err)
	}
	return &errorStream{ClientStream: stream}, nil
}

// errorStream converts a stream's terminal error into *Error.
type errorStream struct{ grpc.ClientStream }

func (s *errorStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return newError(err)
}

type bearer struct {
	token  string
	secure bool
}

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + b.token}, nil
}

// RequireTransportSecurity is false so a token also works on plaintext loopback connections.
func (b bearer) RequireTransportSecurity() bool { return false }

// Flops is a FLOPs (multiply-accumulate) budget.
func Flops(target float64) *supernetdv1.Constraint {
	return &supernetdv1.Constraint{Kind: supernetdv1.ConstraintKind_CONSTRAINT_KIND_FLOPS, Target: target}
}

// Params is a parameter-count budget.
func Params(target float64) *supernetdv1.Constraint {
	return &supernetdv1.Constraint{Kind: supernetdv1.ConstraintKind_CONSTRAINT_KIND_PARAMS, Target: target}
}

// LatencyMs is a latency budget in milliseconds.
func LatencyMs(target float64) *supernetdv1.Constraint {
	return &supernetdv1.Constraint{Kind: supernetdv1.ConstraintKind_CONSTRAINT_KIND_LATENCY, Target: target}
}
