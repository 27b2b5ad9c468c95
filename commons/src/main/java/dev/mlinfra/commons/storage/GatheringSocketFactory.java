package dev.mlinfra.commons.storage;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import javax.net.SocketFactory;

/**
 * Plain sockets whose output is gathered into writes of up to {@code bufferSize} bytes. OkHttp
 * hands its socket 8 KiB at a time, one system call each, and the store's side then reads the
 * body in pieces as small: at hundreds of megabytes per upload both ends spend more time on
 * system calls than on the bytes. OkHttp flushes the socket's stream whenever it waits for an
 * answer (after the headers of an {@code Expect: 100-continue} request and after every request),
 * so nothing it sent waits in the buffer.
 */
final class GatheringSocketFactory extends SocketFactory {

    private final int bufferSize;

    GatheringSocketFactory(int bufferSize) {
        this.bufferSize = bufferSize;
    }

    @Override
    public Socket createSocket() {
        return new GatheringSocket(bufferSize);
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(new InetSocketAddress(host, port), null);
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
        return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
    }

    private Socket connected(InetSocketAddress remote, InetSocketAddress local) throws IOException {
        Socket socket = createSocket();
        if (local != null) {
            socket.bind(local);
        }
        socket.connect(remote);
        return socket;
    }

    private static final class GatheringSocket extends Socket {
        private final int bufferSize;
        private OutputStream output;

        GatheringSocket(int bufferSize) {
            this.bufferSize = bufferSize;
        }

        @Override
        public synchronized OutputStream getOutputStream() throws IOException {
            if (output == null) {
                output = new BufferedOutputStream(super.getOutputStream(), bufferSize);
            }
            return output;
        }
    }
}
