package dev.supernetd.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.supernetd.v1.ElementType;
import dev.supernetd.v1.Tensor;
import org.junit.jupiter.api.Test;

class TensorsTest {
  @Test
  void floatTensorIsLittleEndianAndRoundTrips() {
    float[] in = {0f, 0.25f, -1f, 3.5f, 8f, 1e-3f};
    Tensor t = Tensors.of(in, 2, 3);
    assertEquals(ElementType.ELEMENT_TYPE_FLOAT32, t.getDtype());
    assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3e}, t.getData().substring(4, 8).toByteArray());
    assertArrayEquals(in, Tensors.toFloatArray(t));
    assertArrayEquals(new int[] {2, 3}, Tensors.shape(t));
  }

  @Test
  void intAndUint8Tensors() {
    Tensor labels = Tensors.of(new int[] {1, -2}, 2);
    assertArrayEquals(new byte[] {1, 0, 0, 0, (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff}, labels.getData().toByteArray());
    assertArrayEquals(new int[] {1, -2}, Tensors.toIntArray(labels));
    Tensor pixels = Tensors.ofUint8(new byte[] {0, (byte) 255, 7}, 1, 3);
    assertEquals(ElementType.ELEMENT_TYPE_UINT8, pixels.getDtype());
    assertEquals(255, Tensors.toUint8Array(pixels)[1] & 0xff);
    assertThrows(IllegalArgumentException.class, () -> Tensors.toFloatArray(pixels));
  }

  @Test
  void rejectsBadShapes() {
    assertThrows(IllegalArgumentException.class, () -> Tensors.of(new float[] {1, 2, 3}, 2, 2));
    assertThrows(IllegalArgumentException.class, () -> Tensors.of(new float[0], 0));
    assertThrows(IllegalArgumentException.class, () -> Tensors.batch(new byte[2], new int[] {2, 1, 1, 1}, new int[] {0}));
  }
}
