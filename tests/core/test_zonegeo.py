# Zone geometry in the local decimetre frame, against distances worked out by hand. Both
# runtimes. (tests/test_zones_shapely.py holds it against shapely for random shapes.)
from array import array

from tagcore.zones.geom import sdist_circle, sdist_corridor, sdist_polygon

BIG = 1000000
# A 100 m x 60 m rectangle with a 20 m square hole in its middle (dm, no closing vertex).
OUTER = array("i", [0, 0, 1000, 0, 1000, 600, 0, 600])
HOLE = array("i", [400, 200, 600, 200, 600, 400, 400, 400])


def test_polygon_inside_outside_and_distance():
    rings = [OUTER]
    assert sdist_polygon(500, 300, rings, BIG) == -300  # centre: 30 m to the long sides
    assert sdist_polygon(100, 300, rings, BIG) == -100
    assert sdist_polygon(1100, 300, rings, BIG) == 100  # 10 m east of the east side
    assert sdist_polygon(1300, 1000, rings, BIG) == 500  # 3-4-5 from the corner
    assert sdist_polygon(500, 0, rings, BIG) == 0  # on the boundary


def test_a_hole_is_outside_and_its_edge_is_a_boundary():
    rings = [OUTER, HOLE]
    assert sdist_polygon(500, 300, rings, BIG) == 100  # in the hole: 10 m to its edges
    assert sdist_polygon(300, 300, rings, BIG) == -100  # between hole and outline
    assert sdist_polygon(150, 300, rings, BIG) == -150


def test_orientation_does_not_matter():
    rev = array("i", [0, 600, 1000, 600, 1000, 0, 0, 0])
    for p in ((500, 300), (1100, 300), (-50, -50), (999, 1)):
        assert sdist_polygon(p[0], p[1], [rev], BIG) == sdist_polygon(p[0], p[1], [OUTER], BIG)


def test_concave_polygon_ray_through_vertices():
    # A "U": the ray from (500, 500) passes exactly through vertices at y = 500.
    u = array("i", [0, 0, 1000, 0, 1000, 1000, 700, 1000, 700, 500, 300, 500, 300, 1000, 0, 1000])
    assert sdist_polygon(500, 700, [u], BIG) == 200  # in the notch: outside
    assert sdist_polygon(500, 300, [u], BIG) == -200
    assert sdist_polygon(150, 500, [u], BIG) == -150  # level with the notch's floor vertices
    assert sdist_polygon(850, 500, [u], BIG) == -150


def test_distances_saturate_at_the_cap():
    rings = [OUTER]
    assert sdist_polygon(500, 300, rings, 50) == -50
    assert sdist_polygon(5000, 300, rings, 50) == 50
    assert sdist_polygon(1030, 300, rings, 50) == 30
    assert sdist_circle(0, 10000, 100, 50) == 50
    assert sdist_circle(0, 0, 1000, 50) == -50


def test_circle():
    assert sdist_circle(0, 0, 500, BIG) == -500
    assert sdist_circle(300, 400, 500, BIG) == 0
    assert sdist_circle(600, 800, 500, BIG) == 500
    assert sdist_circle(-600, -800, 500, BIG) == 500


def test_corridor_is_distance_to_the_polyline_minus_half_width():
    line = [array("i", [0, 0, 1000, 0, 1000, 1000])]  # east 100 m, then north 100 m
    assert sdist_corridor(500, 0, line, 100, BIG) == -100  # on the centre line
    assert sdist_corridor(500, 250, line, 100, BIG) == 150
    assert sdist_corridor(1300, 500, line, 100, BIG) == 200
    assert sdist_corridor(-300, -400, line, 100, BIG) == 400  # past the open end
    # The inside corner: 10 m from both legs.
    assert sdist_corridor(900, 100, line, 100, BIG) == 0


def test_large_coordinates_stay_exact():
    # A 40 km-wide frame (what int32 zones allow): long edges, exact integer distances.
    big = array("i", [-200000, -200000, 200000, -200000, 200000, 200000, -200000, 200000])
    assert sdist_polygon(199000, 0, [big], BIG) == -1000
    assert sdist_polygon(203000, 204000, [big], BIG) == 5000
