/**
 * Small value classes whose methods return new instances: V8 inlines the
 * methods and the constructors into the simulation step.
 */
class Vec {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}

  plus(o: Vec): Vec {
    return new Vec(this.x + o.x, this.y + o.y); // @site plus
  }

  scaled(k: number): Vec {
    return new Vec(this.x * k, this.y * k); // @site scaled
  }
}

class Body {
  readonly trail: Vec[];
  constructor(
    readonly id: number,
    public pos: Vec,
  ) {
    this.trail = [pos, pos]; // @site Body
  }
}

const positions: Vec[] = [];
const velocities: Vec[] = [];
const bodies: Body[] = [];
export const kept = { plus: positions, scaled: velocities, Body: () => bodies.map((b) => b.trail), spawn: bodies };
export const grown = { positions, velocities, bodies };

function spawn(id: number, at: Vec): Body {
  return new Body(id, at); // @site spawn
}

function step(pos: Vec, vel: Vec, dt: number, i: number): Vec {
  const v = vel.scaled(dt);
  const next = pos.plus(v);
  if (i % 3 === 0) {
    positions.push(next); // @store positions
    velocities.push(v); // @store velocities
  }
  return next;
}

export function run(n: number): number {
  let pos = new Vec(0, 0);
  const vel = new Vec(1.5, -0.5);
  for (let i = 0; i < n; i++) {
    pos = step(pos, vel, 0.01 + (i % 7) * 0.001, i);
    // Bodies start at kept positions only, so no position is kept by a body alone.
    if (i % 48 === 0) bodies.push(spawn(i, pos)); // @store bodies
  }
  return pos.x;
}
