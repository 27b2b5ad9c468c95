package dev.mlinfra.testsupport;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;

/**
 * What a class of the application under test logs while a test runs, from where it is opened until
 * it is closed: {@code try (LogCapture logs = LogCapture.of(Service.class)) { ... logs.messages(Level.WARNING) }}.
 */
public final class LogCapture extends Handler implements AutoCloseable {

    private final Logger logger;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    private LogCapture(String name) {
        this.logger = Logger.getLogger(name);
        setLevel(Level.ALL);
        logger.addHandler(this);
    }

    /** Starts capturing what {@code type}'s logger logs. */
    public static LogCapture of(Class<?> type) {
        return new LogCapture(type.getName());
    }

    /** The messages logged at {@code level} (JBoss' WARN is {@link Level#WARNING}), formatted as logged. */
    public List<String> messages(Level level) {
        return records.stream().filter(r -> r.getLevel().intValue() == level.intValue())
                .map(r -> r instanceof ExtLogRecord ext ? ext.getFormattedMessage() : r.getMessage()).toList();
    }

    @Override
    public void publish(LogRecord record) {
        records.add(record);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        logger.removeHandler(this);
    }
}
