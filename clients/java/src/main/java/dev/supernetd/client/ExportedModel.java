package dev.supernetd.client;

import dev.supernetd.v1.ExportHeader;
import dev.supernetd.v1.ExportedFile;
import dev.supernetd.v1.Subnet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** An exported subnet: the export header and every file's bytes, checked against their SHA-256. */
public final class ExportedModel {
  private final ExportHeader header;
  private final Map<String, byte[]> files;

  ExportedModel(ExportHeader header, Map<String, byte[]> files) {
    this.header = header;
    this.files = Collections.unmodifiableMap(files);
  }

  /** The header: subnet, file list and format. */
  public ExportHeader header() {
    return header;
  }

  /** The exported subnet. */
  public Subnet subnet() {
    return header.getSubnet();
  }

  /** File contents by relative path ({@code model.json}, {@code weights.bin}, {@code arch.json}). */
  public Map<String, byte[]> files() {
    return files;
  }

  /** Writes the files under {@code dir} (created if needed) and returns their paths. */
  public List<Path> writeTo(Path dir) throws IOException {
    List<Path> written = new ArrayList<>();
    for (ExportedFile f : header.getFilesList()) {
      Path path = dir.resolve(f.getPath()).normalize();
      if (!path.startsWith(dir.normalize())) throw new IOException("export path escapes the directory: " + f.getPath());
      Files.createDirectories(path.getParent());
      Files.write(path, files.get(f.getPath()));
      written.add(path);
    }
    return written;
  }
}
