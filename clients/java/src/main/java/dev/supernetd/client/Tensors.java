package dev.supernetd.client;

import com.google.protobuf.ByteString;
import dev.supernetd.v1.Batch;
import dev.supernetd.v1.ElementType;
import dev.supernetd.v1.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Conversions between Java arrays and {@link Tensor} messages (row-major, little-endian bytes):
 * {@code float[]} is FLOAT32, {@code int[]} is INT32, and {@code byte[]} read as unsigned is UINT8.
 * Methods throw {@link IllegalArgumentException} when the shape has a non-positive dimension or
 * disagrees with the data, or when a tensor has a different element type than asked for.
 */
public final class Tensors {
  private Tensors() {}

  /** A FLOAT32 tensor of the given shape. */
  public static Tensor of(float[] values, int... shape) {
    checkCount(values.length, shape);
    ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return build(ElementType.ELEMENT_TYPE_FLOAT32, shape, buf.array());
  }

  /** An INT32 tensor of the given shape. */
  public static Tensor of(int[] values, int... shape) {
    checkCount(values.length, shape);
    ByteBuffer buf = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    buf.asIntBuffer().put(values);
    return build(ElementType.ELEMENT_TYPE_INT32, shape, buf.array());
  }

  /** A UINT8 tensor of the given shape; each byte is read as unsigned (0..255). */
  public static Tensor ofUint8(byte[] values, int... shape) {
    checkCount(values.length, shape);
    return build(ElementType.ELEMENT_TYPE_UINT8, shape, values.clone());
  }

  /** The values of a FLOAT32 tensor. */
  public static float[] toFloatArray(Tensor t) {
    int n = checkTensor(t, ElementType.ELEMENT_TYPE_FLOAT32, 4);
    float[] out = new float[n];
    t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }

  /** The values of an INT32 tensor. */
  public static int[] toIntArray(Tensor t) {
    int n = checkTensor(t, ElementType.ELEMENT_TYPE_INT32, 4);
    int[] out = new int[n];
    t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
    return out;
  }

  /** The values of a UINT8 tensor (as bytes; use {@code b & 0xff} for 0..255). */
  public static byte[] toUint8Array(Tensor t) {
    checkTensor(t, ElementType.ELEMENT_TYPE_UINT8, 1);
    return t.getData().toByteArray();
  }

  /** The shape of a tensor. */
  public static int[] shape(Tensor t) {
    return t.getShapeList().stream().mapToInt(Integer::intValue).toArray();
  }

  /** A batch of NHWC uint8 images of shape {@code imageShape} and one label per image. */
  public static Batch batch(byte[] pixels, int[] imageShape, int[] labels) {
    checkLabels(imageShape, labels);
    return Batch.newBuilder().setImages(ofUint8(pixels, imageShape)).setLabels(of(labels, labels.length)).build();
  }

  /** A batch of NHWC float images (already normalised) of shape {@code imageShape} and one label per image. */
  public static Batch batch(float[] images, int[] imageShape, int[] labels) {
    checkLabels(imageShape, labels);
    return Batch.newBuilder().setImages(of(images, imageShape)).setLabels(of(labels, labels.length)).build();
  }

  private static void checkLabels(int[] imageShape, int[] labels) {
    if (imageShape.length == 0 || imageShape[0] != labels.length) {
      throw new IllegalArgumentException(labels.length + " labels for images of shape " + Arrays.toString(imageShape));
    }
  }

  private static long elementCount(int[] shape) {
    if (shape.length == 0) throw new IllegalArgumentException("a tensor needs at least one dimension");
    long n = 1;
    for (int i = 0; i < shape.length; i++) {
      if (shape[i] <= 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + ": dimension " + i + " is " + shape[i]);
      }
      n *= shape[i];
    }
    return n;
  }

  private static void checkCount(int length, int[] shape) {
    long n = elementCount(shape);
    if (n != length) {
      throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + n + " elements, the array " + length);
    }
  }

  private static int checkTensor(Tensor t, ElementType want, int size) {
    if (t.getDtype() != want) throw new IllegalArgumentException("tensor is " + t.getDtype() + ", not " + want);
    long n = elementCount(shape(t));
    if (t.getData().size() != n * size) {
      throw new IllegalArgumentException("tensor of shape " + t.getShapeList() + " needs " + n * size + " bytes, has " + t.getData().size());
    }
    return (int) n;
  }

  private static Tensor build(ElementType dtype, int[] shape, byte[] data) {
    Tensor.Builder b = Tensor.newBuilder().setDtype(dtype).setData(ByteString.copyFrom(data));
    for (int d : shape) b.addShape(d);
    return b.build();
  }
}
