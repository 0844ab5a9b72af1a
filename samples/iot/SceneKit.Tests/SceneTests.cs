namespace SceneKit.Tests;

public sealed class SceneTests
{
    [Fact]
    public void Generator_SameSeed_GivesSameScenesAndPixels()
    {
        var a = new SceneGenerator(42);
        var b = new SceneGenerator(42);
        for (int i = 0; i < 50; i++)
        {
            Scene x = a.Next(), y = b.Next();
            Assert.Equal(x.Caption, y.Caption);
            Assert.Equal(SceneRenderer.Render(x).Pixels, SceneRenderer.Render(y).Pixels);
        }
    }

    [Fact]
    public void Generator_DifferentSeeds_GiveDifferentScenes()
    {
        var a = new SceneGenerator(1);
        var b = new SceneGenerator(2);
        int same = 0;
        for (int i = 0; i < 50; i++)
        {
            same += a.Next().Caption == b.Next().Caption ? 1 : 0;
        }

        Assert.True(same < 10, $"{same} of 50 captions equal");
    }

    [Fact]
    public void Generator_Scenes_FollowTheDocumentedRules()
    {
        var generator = new SceneGenerator(7);
        int single = 0, vertical = 0, horizontal = 0;
        for (int i = 0; i < 2000; i++)
        {
            Scene scene = generator.Next();
            foreach (SceneShape s in scene.Shapes)
            {
                Assert.InRange(s.CenterX - s.HalfExtent, 1, 62);
                Assert.InRange(s.CenterX + s.HalfExtent, 1, 62);
                Assert.InRange(s.CenterY - s.HalfExtent, 1, 62);
                Assert.InRange(s.CenterY + s.HalfExtent, 1, 62);
                Assert.InRange(s.HalfExtent, s.Size == ShapeSize.Small ? 5 : 10, s.Size == ShapeSize.Small ? 7 : 13);
            }

            if (scene.Shapes.Count == 1)
            {
                single++;
                continue;
            }

            SceneShape a = scene.Shapes[0], b = scene.Shapes[1];
            Assert.True(a.Colour < b.Colour);
            int dx = Math.Abs(a.CenterX - b.CenterX), dy = Math.Abs(a.CenterY - b.CenterY);
            Assert.True(dy >= 2 * dx || dx >= 2 * dy, $"scene {i}: no dominant axis (dx {dx}, dy {dy})");
            Assert.True(dx >= a.HalfExtent + b.HalfExtent + 3 || dy >= a.HalfExtent + b.HalfExtent + 3, $"scene {i}: boxes too close");
            vertical += dy >= 2 * dx ? 1 : 0;
            horizontal += dx >= 2 * dy ? 1 : 0;
        }

        Assert.InRange(single, 500, 700); // 30% of 2000
        Assert.True(vertical > 300 && horizontal > 300, $"vertical {vertical}, horizontal {horizontal}");
    }

    [Theory]
    [InlineData(ShapeKind.Circle, ShapeColour.Red, ShapeSize.Small, 30, 10, ShapeKind.Square, ShapeColour.Blue, ShapeSize.Large, 32, 45, "a small red circle above a large blue square")]
    [InlineData(ShapeKind.Triangle, ShapeColour.Green, ShapeSize.Large, 50, 30, ShapeKind.Circle, ShapeColour.Yellow, ShapeSize.Small, 15, 32, "a large green triangle to the right of a small yellow circle")]
    [InlineData(ShapeKind.Square, ShapeColour.Red, ShapeSize.Large, 30, 50, ShapeKind.Square, ShapeColour.Green, ShapeSize.Small, 31, 12, "a large red square below a small green square")]
    public void Captions_TwoShapes_NameColourOrderAndRelation(
        ShapeKind k1, ShapeColour c1, ShapeSize z1, int x1, int y1, ShapeKind k2, ShapeColour c2, ShapeSize z2, int x2, int y2, string expected)
    {
        var scene = new Scene(64, 64, [Shape(k1, c1, z1, x1, y1), Shape(k2, c2, z2, x2, y2)], 0);
        Assert.Equal(expected, scene.Caption);
    }

    [Theory]
    [InlineData(15, 30, "a large green triangle on the left")]
    [InlineData(47, 30, "a large green triangle on the right")]
    [InlineData(32, 15, "a large green triangle at the top")]
    [InlineData(32, 48, "a large green triangle at the bottom")]
    [InlineData(32, 32, "a large green triangle in the centre")]
    public void Captions_OneShape_NamesItsPosition(int x, int y, string expected)
    {
        var scene = new Scene(64, 64, [Shape(ShapeKind.Triangle, ShapeColour.Green, ShapeSize.Large, x, y)], 0);
        Assert.Equal(expected, scene.Caption);
    }

    [Fact]
    public void Scene_RejectsSameColourTwice()
    {
        Assert.Throws<ArgumentException>(() => new Scene(64, 64,
            [Shape(ShapeKind.Circle, ShapeColour.Red, ShapeSize.Small, 10, 10), Shape(ShapeKind.Square, ShapeColour.Red, ShapeSize.Small, 50, 50)], 0));
    }

    [Fact]
    public void Renderer_DrawsShapesWithDocumentedPixelCounts()
    {
        // s = 6: square 13×13 = 169 px; triangle rows t = 0..12 have 2·floor(t/2) + 1 px, 1+1+3+3+…+11+11+13 = 85;
        // circle: lattice points with dx² + dy² ≤ 6.5², counted by hand per row dy = 0, ±1..±6: 13 + 2·(13+13+11+11+9+5) = 137.
        foreach ((ShapeKind kind, int expected) in new[] { (ShapeKind.Square, 169), (ShapeKind.Triangle, 85), (ShapeKind.Circle, 137) })
        {
            var shape = new SceneShape(kind, ShapeColour.Blue, ShapeSize.Small, 20, 20, 6);
            int n = 0;
            for (int y = 0; y < 64; y++)
            {
                for (int x = 0; x < 64; x++)
                {
                    n += SceneRenderer.Contains(shape, x, y) ? 1 : 0;
                }
            }

            Assert.Equal(expected, n);
        }
    }

    private static SceneShape Shape(ShapeKind k, ShapeColour c, ShapeSize z, int x, int y) =>
        new(k, c, z, x, y, z == ShapeSize.Small ? 6 : 12);
}
