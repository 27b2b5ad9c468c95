package dev.mlinfra.testsupport;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.sql.SQLException;
import java.util.Arrays;

/**
 * Calls {@link DevstackProcess} on the one copy of it per JVM: the one the system class loader
 * holds. Quarkus loads test classes and their libraries in a class loader per test profile, so
 * plain static state would start a devstack per profile; the system class loader sees the same
 * test class path and is never closed. Arguments and results are JDK types only.
 */
final class JvmShared {

    private static final Class<?> TARGET = locate();

    private JvmShared() {
    }

    @SuppressWarnings("unchecked")
    static <T> T call(String method, Object... args) {
        try {
            return (T) find(method, args.length).invoke(null, args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException(cause);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call DevstackProcess." + method, e);
        }
    }

    /** As {@link #call}, letting an {@link SQLException} through. */
    static <T> T callSql(String method, Object... args) throws SQLException {
        try {
            return call(method, args);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw e;
        }
    }

    private static Method find(String name, int arity) {
        Method method = Arrays.stream(TARGET.getDeclaredMethods())
                .filter(m -> m.getName().equals(name) && m.getParameterCount() == arity)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("DevstackProcess has no method " + name + "/" + arity));
        method.setAccessible(true);
        return method;
    }

    private static Class<?> locate() {
        ClassLoader system = ClassLoader.getSystemClassLoader();
        if (DevstackProcess.class.getClassLoader() != system) {
            try {
                return Class.forName(DevstackProcess.class.getName(), true, system);
            } catch (ClassNotFoundException | LinkageError e) {
                // not on the system class path (an unusual runner): one devstack per class loader then
            }
        }
        return DevstackProcess.class;
    }
}
