/**
 * A DNS "server" that accepts queries over UDP and TCP and never answers: the nameserver behind
 * blackhole.caa.test., and a resolver address for client-side timeout tests.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { LOOPBACK } from './processes.js';

// ---------------------------------------------------------------------------------------------
// The blackhole

/** UDP and TCP on one port: reads queries, never answers, keeps TCP connections open until closed. */
export class Blackhole {
  private readonly connections = new Set<net.Socket>();

  private constructor(
    readonly port: number,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
  ) {
    // Like the daemons, the blackhole must not keep the test process alive if stop() is forgotten.
    udp.unref();
    tcp.unref();
    udp.on('message', () => undefined); // read and drop
    tcp.on('connection', (socket) => {
      socket.unref();
      this.connections.add(socket);
      socket.on('data', () => undefined); // read and drop
      socket.on('error', () => undefined);
      socket.on('close', () => this.connections.delete(socket));
    });
  }

  static async start(): Promise<Blackhole> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: LOOPBACK, port: 0, exclusive: true }, () => resolve());
      });
      const port = udp.address().port;
      const tcp = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen({ host: LOOPBACK, port, exclusive: true }, () => resolve(true));
      });
      if (ok) return new Blackhole(port, udp, tcp);
      udp.close();
    }
    throw new Error('blackhole: no port free for both UDP and TCP');
  }

  async close(): Promise<void> {
    for (const socket of this.connections) socket.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }
}
