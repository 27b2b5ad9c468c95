package dev.mlinfra.devstack;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdentityKeysTest {

    @TempDir
    Path dir;

    @Test
    void writesAPkcs8PrivateKeyOnlyItsOwnerCanReadAndTheMatchingPublicKey() throws Exception {
        IdentityKeys keys = IdentityKeys.ensure(dir);

        assertEquals(dir.resolve("identity-private.pem"), keys.privateKey());
        assertEquals(dir.resolve("identity-public.pem"), keys.publicKey());
        String privatePem = Files.readString(keys.privateKey(), StandardCharsets.US_ASCII);
        String publicPem = Files.readString(keys.publicKey(), StandardCharsets.US_ASCII);
        assertTrue(privatePem.startsWith("-----BEGIN PRIVATE KEY-----\n"), privatePem);
        assertTrue(privatePem.endsWith("-----END PRIVATE KEY-----\n"), privatePem);
        assertTrue(publicPem.startsWith("-----BEGIN PUBLIC KEY-----\n"), publicPem);
        assertTrue(privatePem.lines().allMatch(line -> line.length() <= 64), "PEM lines are at most 64 characters");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.privateKey())));

        PrivateKey privateKey = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der(privatePem)));
        PublicKey publicKey = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der(publicPem)));
        assertEquals(2048, ((java.security.interfaces.RSAPublicKey) publicKey).getModulus().bitLength());
        assertTrue(verifies(privateKey, publicKey), "a signature made with the private key verifies with the public key");
    }

    @Test
    void keepsExistingKeysAndRestoresAMissingPublicKeyFromThePrivateOne() throws Exception {
        IdentityKeys keys = IdentityKeys.ensure(dir);
        byte[] privateBefore = Files.readAllBytes(keys.privateKey());
        byte[] publicBefore = Files.readAllBytes(keys.publicKey());

        IdentityKeys.ensure(dir);
        assertArrayEquals(privateBefore, Files.readAllBytes(keys.privateKey()));
        assertArrayEquals(publicBefore, Files.readAllBytes(keys.publicKey()));

        Files.delete(keys.publicKey());
        IdentityKeys.ensure(dir);
        assertArrayEquals(privateBefore, Files.readAllBytes(keys.privateKey()));
        assertArrayEquals(publicBefore, Files.readAllBytes(keys.publicKey()));
    }

    private static byte[] der(String pem) {
        return Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
    }

    private static boolean verifies(PrivateKey privateKey, PublicKey publicKey) throws Exception {
        byte[] message = "identity".getBytes(StandardCharsets.UTF_8);
        Signature signer = Signature.getInstance("SHA256withRSA");
        signer.initSign(privateKey);
        signer.update(message);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withRSA");
        verifier.initVerify(publicKey);
        verifier.update(message);
        return verifier.verify(signature);
    }
}
