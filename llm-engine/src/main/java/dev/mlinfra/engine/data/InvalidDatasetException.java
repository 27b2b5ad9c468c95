package dev.mlinfra.engine.data;

import java.io.IOException;

/** A dataset file that cannot be read as a whole: not UTF-8 text, a JSON array that is cut off, ... */
public final class InvalidDatasetException extends IOException {

    public InvalidDatasetException(String message) {
        super(message);
    }

    public InvalidDatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
