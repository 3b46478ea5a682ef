package supernetd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
)

// ExportedModel is an exported subnet: the export header and every file's bytes.
type ExportedModel struct {
	Header *supernetdv1.ExportHeader
	Files  map[string][]byte
}

// Export runs ExportSubnet and collects the stream, checking each file's size and SHA-256 against
// the header. It gets the default deadline; gRPC retries it on UNAVAILABLE before its first message.
func (c *Client) Export(ctx context.Context, req *supernetdv1.ExportSubnetRequest) (*ExportedModel, error) {
	ctx, cancel := c.opts.withDefaultDeadline(ctx)
	defer cancel()
	model, err := c.collectExport(ctx, req)
	if err != nil {
		return nil, newError(err)
	}
	return model, nil
}

func (c *Client) collectExport(ctx context.Context, req *supernetdv1.ExportSubnetRequest) (*ExportedModel, error) {
	stream, err := c.ExportSubnet(ctx, req)
	if err != nil {
		return nil, err
	}
	model := &ExportedModel{Files: map[string][]byte{}}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if h := msg.GetHeader(); h != nil {
			model.Header = h
		}
		if chunk := msg.GetChunk(); chunk != nil {
			buf := model.Files[chunk.GetPath()]
			if int64(len(buf)) != chunk.GetOffset() {
				return nil, fmt.Errorf("supernetd: export chunk of %s at offset %d, expected %d", chunk.GetPath(), chunk.GetOffset(), len(buf))
			}
			model.Files[chunk.GetPath()] = append(buf, chunk.GetData()...)
		}
	}
	if model.Header == nil {
		return nil, fmt.Errorf("supernetd: export stream ended without a header")
	}
	for _, f := range model.Header.GetFiles() {
		data := model.Files[f.GetPath()]
		sum := sha256.Sum256(data)
		if int64(len(data)) != f.GetSize() || hex.EncodeToString(sum[:]) != f.GetSha256() {
			return nil, fmt.Errorf("supernetd: exported file %s does not match its size or SHA-256", f.GetPath())
		}
	}
	return model, nil
}

// WriteDir writes the files under dir (created if needed) and returns their paths. It refuses
// a file path that is not local to dir.
func (m *ExportedModel) WriteDir(dir string) ([]string, error) {
	var written []string
	for _, f := range m.Header.GetFiles() {
		if !filepath.IsLocal(filepath.FromSlash(f.GetPath())) {
			return written, fmt.Errorf("supernetd: export path escapes the directory: %s", f.GetPath())
		}
		path := filepath.Join(dir, filepath.FromSlash(f.GetPath()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(path, m.Files[f.GetPath()], 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}
