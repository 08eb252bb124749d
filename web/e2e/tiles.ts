/**
 * Map tiles for tests and screenshots, made here (the machines cannot fetch a tile provider's):
 * a calm, map-like SVG per z/x/y with streets, blocks, parks and water laid out in world
 * coordinates, so neighbouring tiles join up.
 */
function hash(...values: number[]): number {
  let h = 2166136261;
  for (const v of values) {
    h ^= v & 0xffffffff;
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) / 4294967295;
}

export function tileSvg(z: number, x: number, y: number): string {
  const size = 256;
  const spacing = z >= 15 ? 64 : z >= 13 ? 96 : 160;
  const ox = x * size;
  const oy = y * size;
  const parts: string[] = [`<rect width="${size}" height="${size}" fill="#f2efe9"/>`];
  const first = (o: number) => Math.floor(o / spacing) * spacing;
  // Blocks: buildings, and now and then a park.
  for (let gx = first(ox) - spacing; gx < ox + size; gx += spacing) {
    for (let gy = first(oy) - spacing; gy < oy + size; gy += spacing) {
      const r = hash(z, gx, gy);
      const fill = r < 0.12 ? '#cdebc5' : r < 0.16 ? '#d8e7f5' : '#e7e2da';
      parts.push(`<rect x="${gx - ox + 7}" y="${gy - oy + 7}" width="${spacing - 14}" height="${spacing - 14}" rx="3" fill="${fill}"/>`);
    }
  }
  // Streets on the grid; every fourth a wider avenue.
  for (let gx = first(ox); gx < ox + size + spacing; gx += spacing) {
    const wide = Math.round(gx / spacing) % 4 === 0;
    parts.push(`<rect x="${gx - ox - (wide ? 4 : 2)}" y="0" width="${wide ? 8 : 4}" height="${size}" fill="${wide ? '#fcd9a0' : '#ffffff'}"/>`);
  }
  for (let gy = first(oy); gy < oy + size + spacing; gy += spacing) {
    const wide = Math.round(gy / spacing) % 4 === 0;
    parts.push(`<rect x="0" y="${gy - oy - (wide ? 4 : 2)}" width="${size}" height="${wide ? 8 : 4}" fill="${wide ? '#fcd9a0' : '#ffffff'}"/>`);
  }
  // A river winding through the world.
  const world = size * 2 ** z;
  const points: string[] = [];
  for (let px = -8; px <= size + 8; px += 8) {
    const wx = (ox + px) / world;
    const wy = 0.32875 + 0.00003 * Math.sin(wx * 2500) + 0.000012 * Math.sin(wx * 7000);
    points.push(`${px},${(wy * world - oy).toFixed(1)}`);
  }
  parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="#aad3df" stroke-width="${Math.max(6, 2 ** (z - 10))}" stroke-linejoin="round"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">${parts.join('')}</svg>`;
}
