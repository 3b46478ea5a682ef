// The code generators of clients/go (go install tool, run by clients/generate.sh), in a module of
// their own so that their Go and gRPC requirements do not become the client module's.
module github.com/supernetd/supernetd/clients/go/tools

go 1.25.0

tool (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc
	google.golang.org/protobuf/cmd/protoc-gen-go
)

require (
	google.golang.org/grpc/cmd/protoc-gen-go-grpc v1.6.2 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)
