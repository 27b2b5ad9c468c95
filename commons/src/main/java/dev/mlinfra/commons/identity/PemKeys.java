package dev.mlinfra.commons.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/** Reads the RSA keys of the identity token from PEM files. */
public final class PemKeys {

    private PemKeys() {
    }

    public static PublicKey readPublic(String location) {
        try {
            return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(decode(location, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Not an RSA public key in PEM form: " + location, e);
        }
    }

    public static PrivateKey readPrivate(String location) {
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(decode(location, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Not a PKCS#8 RSA private key in PEM form: " + location, e);
        }
    }

    /** A short, stable id of a public key, used as the token's {@code kid} so keys can rotate. */
    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] decode(String location, String type) {
        String text;
        try {
            text = Files.readString(Path.of(location));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read key file " + location, e);
        }
        String begin = "-----BEGIN " + type + "-----";
        String end = "-----END " + type + "-----";
        int from = text.indexOf(begin);
        int to = text.indexOf(end);
        if (from < 0 || to < from) {
            throw new IllegalStateException("Key file " + location + " has no '" + begin + "' block");
        }
        return Base64.getMimeDecoder().decode(text.substring(from + begin.length(), to));
    }
}
