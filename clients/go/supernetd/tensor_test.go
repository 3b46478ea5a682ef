package supernetd_test

import (
	"bytes"
	"slices"
	"testing"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
	"github.com/supernetd/supernetd/clients/go/supernetd"
)

func TestFloat32TensorIsLittleEndianAndRoundTrips(t *testing.T) {
	in := []float32{0, 0.25, -1, 3.5, 8, 1e-3}
	tensor, err := supernetd.NewTensor(in, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if tensor.GetDtype() != supernetdv1.ElementType_ELEMENT_TYPE_FLOAT32 {
		t.Fatalf("dtype %s", tensor.GetDtype())
	}
	if !bytes.Equal(tensor.GetData()[4:8], []byte{0, 0, 0x80, 0x3e}) {
		t.Fatalf("0.25 encoded as %x", tensor.GetData()[4:8])
	}
	out, shape, err := supernetd.TensorValues[float32](tensor)
	if err != nil || !slices.Equal(out, in) || !slices.Equal(shape, []int32{2, 3}) {
		t.Fatalf("round trip: %v %v %v", out, shape, err)
	}
}

func TestInt32AndUint8Tensors(t *testing.T) {
	labels, err := supernetd.NewTensor([]int32{1, -2}, 2)
	if err != nil || !bytes.Equal(labels.GetData(), []byte{1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff}) {
		t.Fatalf("int32: %x %v", labels.GetData(), err)
	}
	pixels, err := supernetd.NewTensor([]uint8{0, 255, 7}, 1, 3)
	if err != nil || pixels.GetDtype() != supernetdv1.ElementType_ELEMENT_TYPE_UINT8 {
		t.Fatalf("uint8: %v %v", pixels, err)
	}
	if _, _, err := supernetd.TensorValues[float32](pixels); err == nil {
		t.Fatal("decoding uint8 as float32 should fail")
	}
}

func TestTensorRejectsBadShapes(t *testing.T) {
	if _, err := supernetd.NewTensor([]float32{1, 2, 3}, 2, 2); err == nil {
		t.Error("shape product mismatch accepted")
	}
	if _, err := supernetd.NewTensor([]float32{}, 0); err == nil {
		t.Error("zero dimension accepted")
	}
	if _, err := supernetd.NewBatch([]uint8{1, 2}, []int32{2, 1, 1, 1}, []int32{0}); err == nil {
		t.Error("label count mismatch accepted")
	}
	bad := &supernetdv1.Tensor{Dtype: supernetdv1.ElementType_ELEMENT_TYPE_INT32, Shape: []int32{2}, Data: []byte{1, 2, 3}}
	if _, _, err := supernetd.TensorValues[int32](bad); err == nil {
		t.Error("short data accepted")
	}
}
