package dev.unetlens.io;

import dev.unetlens.UnetlensException;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PNG files with text chunks, written as PIL's {@code PngInfo.add_text} writes them (which AUTOMATIC1111 uses for
 * its {@code parameters}): a tEXt chunk when the text is Latin-1, else an uncompressed UTF-8 iTXt chunk, so labels
 * such as "channels 0–319 · t = 751" and non-Latin prompts survive. Reading returns both kinds.
 */
public final class Png {
    private static final String FORMAT = "javax_imageio_png_1.0";

    private Png() {
    }

    /** Writes {@code img} as PNG with one text chunk per entry of {@code text} (tEXt if Latin-1, else iTXt). */
    public static void write(BufferedImage img, OutputStream out, Map<String, String> text) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            ImageWriteParam param = writer.getDefaultWriteParam();
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), param);
            if (!text.isEmpty()) {
                IIOMetadataNode itxt = new IIOMetadataNode("iTXt");
                IIOMetadataNode textChunks = new IIOMetadataNode("tEXt");
                for (Map.Entry<String, String> e : text.entrySet()) {
                    if (java.nio.charset.StandardCharsets.ISO_8859_1.newEncoder().canEncode(e.getValue())) {
                        IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
                        entry.setAttribute("keyword", e.getKey());
                        entry.setAttribute("value", e.getValue());
                        textChunks.appendChild(entry);
                        continue;
                    }
                    IIOMetadataNode entry = new IIOMetadataNode("iTXtEntry");
                    entry.setAttribute("keyword", e.getKey());
                    entry.setAttribute("compressionFlag", "FALSE");
                    entry.setAttribute("compressionMethod", "0");
                    entry.setAttribute("languageTag", "");
                    entry.setAttribute("translatedKeyword", "");
                    entry.setAttribute("text", e.getValue());
                    itxt.appendChild(entry);
                }
                IIOMetadataNode root = new IIOMetadataNode(FORMAT);
                if (textChunks.hasChildNodes()) {
                    root.appendChild(textChunks);
                }
                if (itxt.hasChildNodes()) {
                    root.appendChild(itxt);
                }
                meta.mergeTree(FORMAT, root);
            }
            writer.write(null, new IIOImage(img, null, meta), param);
        } finally {
            writer.dispose();
        }
    }

    /** The text chunks of a PNG, tEXt and iTXt alike (keyword → text). */
    public static Map<String, String> readText(Path file) {
        Map<String, String> out = new LinkedHashMap<>();
        try (var in = ImageIO.createImageInputStream(file.toFile())) {
            var readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new UnetlensException(file + ": not a readable image");
            }
            var reader = readers.next();
            try {
                reader.setInput(in);
                var root = (IIOMetadataNode) reader.getImageMetadata(0).getAsTree(FORMAT);
                for (String tag : new String[] {"tEXtEntry", "iTXtEntry"}) {
                    var entries = root.getElementsByTagName(tag);
                    for (int i = 0; i < entries.getLength(); i++) {
                        var e = (IIOMetadataNode) entries.item(i);
                        out.put(e.getAttribute("keyword"), e.getAttribute(tag.equals("tEXtEntry") ? "value" : "text"));
                    }
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new UnetlensException(file + ": cannot read image (" + e.getMessage() + ")", e);
        }
        return out;
    }
}
