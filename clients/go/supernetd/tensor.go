package supernetd

import (
	"encoding/binary"
	"fmt"
	"math"

	supernetdv1 "github.com/supernetd/supernetd/clients/go/gen/supernetd/v1"
)

// Element is an element type a Tensor message can carry.
type Element interface {
	float32 | int32 | uint8
}

func elementTypeOf[T Element]() supernetdv1.ElementType {
	var zero T
	switch any(zero).(type) {
	case float32:
		return supernetdv1.ElementType_ELEMENT_TYPE_FLOAT32
	case int32:
		return supernetdv1.ElementType_ELEMENT_TYPE_INT32
	default:
		return supernetdv1.ElementType_ELEMENT_TYPE_UINT8
	}
}

func elementCount(shape []int32) (int, error) {
	if len(shape) == 0 {
		return 0, fmt.Errorf("supernetd: a tensor needs at least one dimension")
	}
	n := 1
	for i, d := range shape {
		if d <= 0 {
			return 0, fmt.Errorf("supernetd: shape %v: dimension %d is %d, must be positive", shape, i, d)
		}
		n *= int(d)
	}
	return n, nil
}

// NewTensor encodes a row-major slice as a Tensor of the given shape (little-endian bytes; the
// element type follows T). It fails when a dimension is not positive or the shape's product
// differs from len(values).
func NewTensor[T Element](values []T, shape ...int32) (*supernetdv1.Tensor, error) {
	n, err := elementCount(shape)
	if err != nil {
		return nil, err
	}
	if n != len(values) {
		return nil, fmt.Errorf("supernetd: shape %v has %d elements, the slice %d", shape, n, len(values))
	}
	var data []byte
	switch v := any(values).(type) {
	case []float32:
		data = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
		}
	case []int32:
		data = make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(data[4*i:], uint32(x))
		}
	case []uint8:
		data = append([]byte(nil), v...)
	}
	return &supernetdv1.Tensor{Dtype: elementTypeOf[T](), Shape: append([]int32(nil), shape...), Data: data}, nil
}

// TensorValues decodes a Tensor into a new slice of T and its shape. It fails when the Tensor's
// element type is not T's or the byte length disagrees with the shape.
func TensorValues[T Element](t *supernetdv1.Tensor) ([]T, []int32, error) {
	if want := elementTypeOf[T](); t.GetDtype() != want {
		return nil, nil, fmt.Errorf("supernetd: tensor is %s, not %s", t.GetDtype(), want)
	}
	n, err := elementCount(t.GetShape())
	if err != nil {
		return nil, nil, err
	}
	size := 4
	if t.GetDtype() == supernetdv1.ElementType_ELEMENT_TYPE_UINT8 {
		size = 1
	}
	if len(t.GetData()) != n*size {
		return nil, nil, fmt.Errorf("supernetd: shape %v of %s needs %d bytes, has %d", t.GetShape(), t.GetDtype(), n*size, len(t.GetData()))
	}
	out := make([]T, n)
	data := t.GetData()
	switch o := any(out).(type) {
	case []float32:
		for i := range o {
			o[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case []int32:
		for i := range o {
			o[i] = int32(binary.LittleEndian.Uint32(data[4*i:]))
		}
	case []uint8:
		copy(o, data)
	}
	return out, append([]int32(nil), t.GetShape()...), nil
}

// NewBatch builds a Batch from NHWC images (uint8 pixels or normalised float32) of the given
// shape and one int32 class label per image.
func NewBatch[T float32 | uint8](images []T, imageShape []int32, labels []int32) (*supernetdv1.Batch, error) {
	img, err := NewTensor(images, imageShape...)
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	if len(imageShape) == 0 || int(imageShape[0]) != len(labels) {
		return nil, fmt.Errorf("supernetd: %d labels for images of shape %v", len(labels), imageShape)
	}
	lab, err := NewTensor(labels, int32(len(labels)))
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	return &supernetdv1.Batch{Images: img, Labels: lab}, nil
}
