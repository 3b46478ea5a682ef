package supernetd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	supernetdv1 "supernetd.dev/client/go/gen/supernetd/v1"
)

// DefaultAddress is used by DialEnv when SUPERNETD_ADDR is unset.
const DefaultAddress = "127.0.0.1:50051"

// RetryPolicy retries calls that fail with UNAVAILABLE, waiting a random time up to
// min(MaxBackoff, InitialBackoff * Multiplier^n) before retry n. MaxAttempts counts the first try.
type RetryPolicy struct {
	MaxAttempts    int
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryPolicy makes up to five attempts, backing off from 100 ms to at most 5 s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second, Multiplier: 2}

func (p RetryPolicy) backoff(retry int) time.Duration {
	limit := float64(p.InitialBackoff)
	for i := 0; i < retry; i++ {
		limit *= p.Multiplier
	}
	limit = min(limit, float64(p.MaxBackoff))
	if limit <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(limit) + 1))
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

// WithRetry replaces DefaultRetryPolicy; MaxAttempts 1 disables retries.
func WithRetry(p RetryPolicy) Option { return func(o *options) { o.retry = p } }

// WithDialOptions adds grpc.DialOptions (interceptors, keepalive, ...).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOptions = append(o.dialOptions, opts...) }
}

// Client is a connection to one supernetd server. It embeds the generated SupernetServiceClient,
// so every RPC is a method; each gets the default deadline, UNAVAILABLE retries (unary calls)
// and returns *Error on failure.
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

// retrying runs attempt until it succeeds, fails with a code other than UNAVAILABLE, runs out of
// attempts, or ctx ends; the error is converted with the attempt's trailers.
func (o *options) retrying(ctx context.Context, attempt func(trailer *metadata.MD) error) error {
	for n := 0; ; n++ {
		var trailer metadata.MD
		err := attempt(&trailer)
		if err == nil {
			return nil
		}
		if status.Code(err) != codes.Unavailable || n+1 >= o.retry.MaxAttempts {
			return newError(err, trailer)
		}
		timer := time.NewTimer(o.retry.backoff(n))
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return newError(err, trailer)
		}
	}
}

func (o *options) unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, callOpts ...grpc.CallOption) error {
	ctx, cancel := o.withDefaultDeadline(ctx)
	defer cancel()
	return o.retrying(ctx, func(trailer *metadata.MD) error {
		return invoker(ctx, method, req, reply, cc, append(callOpts, grpc.Trailer(trailer))...)
	})
}

func (o *options) streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, callOpts ...grpc.CallOption) (grpc.ClientStream, error) {
	stream, err := streamer(ctx, desc, cc, method, callOpts...)
	if err != nil {
		return nil, newError(err, nil)
	}
	return &errorStream{ClientStream: stream}, nil
}

// errorStream converts a stream's terminal error into *Error with the stream's trailers.
type errorStream struct{ grpc.ClientStream }

func (s *errorStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return newError(err, s.ClientStream.Trailer())
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
