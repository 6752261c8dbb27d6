import { ProxyUrls } from './proxy-urls';

const urls = (proxy: { listen?: string; host_suffixes?: string[]; public_url?: string } = {}, serverUrl = '') =>
  new ProxyUrls({ listen: ':8090', host_suffixes: [], public_url: '', ...proxy }, { public_url: serverUrl });

describe('ProxyUrls', () => {
  it('prefers s3_proxy.public_url, without a trailing slash', () => {
    expect(urls({ public_url: 'https://s3.example.com/' }).endpoint('ignored.example')).toBe('https://s3.example.com');
  });

  it('otherwise uses http on the listen port at the first host suffix, server.public_url, or the request host', () => {
    expect(urls({ listen: '0.0.0.0:9000', host_suffixes: ['s3.example.com'] }).endpoint('h')).toBe(
      'http://s3.example.com:9000',
    );
    expect(urls({}, 'https://stowage.example.com').endpoint('h')).toBe('http://stowage.example.com:8090');
    expect(urls().endpoint('files.lan')).toBe('http://files.lan:8090');
    expect(urls().endpoint('files.lan:8080')).toBe('http://files.lan:8090');
    expect(urls().endpoint('[::1]:8080')).toBe('http://[::1]:8090');
    expect(urls().endpoint(undefined)).toBe('http://localhost:8090');
  });

  it.each(['evil"<script>', 'a b', 'x/y', 'x\u0000y', 'é.example', 'a'.repeat(300)])(
    'never echoes a request host like %p',
    (host) => {
      expect(urls().endpoint(host)).toBe('http://localhost:8090');
    },
  );

  it('gives path-style URLs always and virtual-hosted ones for DNS-label buckets under a host suffix', () => {
    const plain = urls();
    expect(plain.bucket('http://h:8090', 'local', 'team')).toEqual({
      backend_id: 'local',
      bucket: 'team',
      path_style: 'http://h:8090/team',
    });
    const hosted = urls({ public_url: 'https://s3.example.com', host_suffixes: ['s3.example.com'] });
    expect(hosted.bucket('https://s3.example.com', 'local', 'team')).toMatchObject({
      path_style: 'https://s3.example.com/team',
      virtual_hosted: 'https://team.s3.example.com',
    });
    expect(hosted.bucket('http://s3.example.com:9000', 'local', 'team').virtual_hosted).toBe(
      'http://team.s3.example.com:9000',
    );
    expect(hosted.bucket('https://s3.example.com', 'local', 'with.dots').virtual_hosted).toBeUndefined();
  });
});
