# Zone geometry in each zone's local frame: integer decimetres east (x) and north (y) of the
# zone's anchor, equirectangular with the anchor's cos(latitude) (tagcore.geo.offset_dm).
#
# Shapes: circle (anchor = centre), polygon with holes (rings of vertices, even-odd rule, so a
# hole is just another ring), corridor (an open polyline and a half-width).
# A ring or polyline is an array of interleaved x, y (array 'h' when the zone fits +-3.2 km,
# else 'i'), without the closing vertex.
#
# sdist_* return the signed distance to the boundary in dm: negative inside, positive outside,
# and saturated at +-cap: the caller only needs to resolve distances up to its decision range,
# so edges whose bounding box is further than `cap` from the point are skipped before any
# multiplication. Results are exact integers up to the floor of the final square root (< 1 dm).
from tagcore.geo import isqrt


def seg_d2(px, py, ax, ay, bx, by):
    """Squared distance (dm^2, floored) from (px, py) to the segment a-b."""
    dx = bx - ax
    dy = by - ay
    qx = px - ax
    qy = py - ay
    dot = qx * dx + qy * dy
    if dot <= 0:
        return qx * qx + qy * qy
    l2 = dx * dx + dy * dy
    if dot >= l2:
        qx = px - bx
        qy = py - by
        return qx * qx + qy * qy
    c = qx * dy - qy * dx
    return c * c // l2


def rings_scan(px, py, rings, cap, closed):
    """2 x (best squared distance to any edge within `cap`, or -1) + crossings parity, over
    the rings (one int, not a tuple: nothing allocated per call).

    closed: rings are polygons (last vertex joins the first) and the parity counts how many ring
    edges a ray from the point towards +x crosses (odd = inside); else open polylines, parity 0.
    """
    best = -1
    odd = 0
    for r in rings:
        n = len(r)
        if closed:
            ax = r[n - 2]
            ay = r[n - 1]
            k = 0
        else:
            ax = r[0]
            ay = r[1]
            k = 2
        while k < n:
            bx = r[k]
            by = r[k + 1]
            k += 2
            if closed and (ay > py) != (by > py):
                # The edge spans the ray's height: is the crossing to the right of the point?
                d = by - ay
                if d > 0:
                    if (px - ax) * d < (py - ay) * (bx - ax):
                        odd ^= 1
                elif (px - ax) * d > (py - ay) * (bx - ax):
                    odd ^= 1
            # Cheap rejection: both ends further than cap beyond the point on one side.
            if (
                (px < ax - cap and px < bx - cap)
                or (px > ax + cap and px > bx + cap)
                or (py < ay - cap and py < by - cap)
                or (py > ay + cap and py > by + cap)
            ):
                ax = bx
                ay = by
                continue
            d2 = seg_d2(px, py, ax, ay, bx, by)
            if best < 0 or d2 < best:
                best = d2
            ax = bx
            ay = by
    return (best << 1) | odd


def sdist_polygon(px, py, rings, cap):
    s = rings_scan(px, py, rings, cap, True)
    best = s >> 1
    odd = s & 1
    d = cap if best < 0 else isqrt(best)
    if d > cap:
        d = cap
    return -d if odd else d


def sdist_corridor(px, py, rings, half_dm, cap):
    best = rings_scan(px, py, rings, cap + half_dm, False) >> 1
    d = cap + half_dm if best < 0 else isqrt(best)
    d -= half_dm
    if d > cap:
        return cap
    if d < -cap:
        return -cap
    return d


def sdist_circle(px, py, r_dm, cap):
    # Beyond cap + r on either axis the answer is saturated anyway: skip the squares.
    lim = cap + r_dm
    if px > lim or px < -lim or py > lim or py < -lim:
        return cap
    d = isqrt(px * px + py * py) - r_dm
    if d > cap:
        return cap
    if d < -cap:
        return -cap
    return d
