using RnnEmbedded.Compiler.Formats;

namespace RnnEmbedded.Tests.Formats;

/// <summary>The committed PyTorch fixtures (written by tests/fixtures/make_fixtures.py) against reader and writer.</summary>
public sealed class SafeTensorsFixtureTests
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures"), "*.safetensors").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Fact]
    public void FixturesArePresent()
    {
        Assert.True(Fixtures().Count >= 18);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_ReadsAndRoundTripsThroughWriter(string name)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "fixtures", name);
        WeightFile file = SafeTensorsReader.ReadFile(path);
        Assert.NotEmpty(file.Tensors);

        byte[] rewritten = SafeTensorsWriter.Write(file.Tensors, file.Metadata);
        WeightFile again = SafeTensorsReader.Read(rewritten, name);

        Assert.Equal(file.Tensors.Select(t => t.Name), again.Tensors.Select(t => t.Name));
        for (int i = 0; i < file.Tensors.Count; i++)
        {
            Assert.Equal(file.Tensors[i].Shape, again.Tensors[i].Shape);
            Assert.Equal(file.Tensors[i].Data, again.Tensors[i].Data);
        }

        Assert.Equal(file.Metadata, again.Metadata);

        // Without metadata, our header is exactly what Python's json.dumps(separators=(",", ":")) wrote.
        if (file.Metadata.Count == 0)
        {
            Assert.Equal(File.ReadAllBytes(path), rewritten);
        }
    }
}
