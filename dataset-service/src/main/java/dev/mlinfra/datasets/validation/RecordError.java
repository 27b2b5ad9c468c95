package dev.mlinfra.datasets.validation;

/** One problem in an uploaded file: which record (1-based), which field (null: the record or file as a whole), what. */
public record RecordError(long record, String field, String message) {

    @Override
    public String toString() {
        return "record " + record + (field == null ? "" : ", field '" + field + "'") + ": " + message;
    }
}
