using RnnEmbedded.Compiler.Emit;
using RnnEmbedded.Compiler.Model;
using RnnEmbedded.Tests.Infrastructure;

namespace RnnEmbedded.Tests;

/// <summary>The emitter's decisions, asserted on the plan (no generated text is parsed).</summary>
public class ModelPlannerTests
{
    private static ModelPlan Plan(string snapshotModel) => Plan(SnapshotModels.All[snapshotModel]());

    private static ModelPlan Plan(ModelSpec spec, int width = 512) =>
        ModelPlanner.Plan(spec, new EmitOptions { TypeName = "Demo.M", MaxVectorWidth = width });

    [Theory]
    [InlineData("Lstm", CellVariant.Lstm, "CellKernels.Lstm")]
    [InlineData("LstmProjection", CellVariant.Lstm, "CellKernels.Lstm")]
    [InlineData("LstmCifg", CellVariant.LstmCifg, "CellKernels.LstmCifg")]
    [InlineData("LstmPeephole", CellVariant.LstmPeephole, "CellKernels.LstmPeephole")]
    [InlineData("GruResetAfter", CellVariant.GruResetAfter, "CellKernels.GruResetAfter")]
    [InlineData("GruResetBefore", CellVariant.GruResetBefore, "CellKernels.GruResetBeforeGates")]
    [InlineData("Rnn", CellVariant.Rnn, "Activations.Relu")]
    [InlineData("OneHotInput", CellVariant.Rnn, "Activations.Tanh")]
    public void EachCell_CallsTheKernelNamedForItsVariant(string model, CellVariant variant, string kernel)
    {
        CellPlan cell = Assert.Single(Plan(model).Cells);

        Assert.Equal(variant, cell.Variant);
        Assert.Equal(kernel, cell.Kernel);
    }

    [Fact]
    public void CifgWithPeepholes_CallsTheCifgPeepholeKernel()
    {
        ModelSpec spec = SnapshotModels.All["LstmCifg"]();
        LayerSpec l = spec.Layers[0];
        DirectionWeights d = l.Forward;
        var withPeepholes = new LayerSpec
        {
            Cell = l.Cell, InputSize = l.InputSize, HiddenSize = l.HiddenSize, Cifg = true,
            Forward = new DirectionWeights { W_ih = d.W_ih, W_hh = d.W_hh, b_ih = d.b_ih, b_hh = d.b_hh, Peepholes = new Matrix(3, 2, new float[6]) },
        };
        var model = new ModelSpec { InputKind = spec.InputKind, InputSize = spec.InputSize, Embedding = spec.Embedding, Layers = [withPeepholes], Head = spec.Head };

        CellPlan cell = Assert.Single(Plan(model).Cells);

        Assert.Equal(CellVariant.LstmCifgPeephole, cell.Variant);
        Assert.Equal("CellKernels.LstmCifgPeephole", cell.Kernel);
        Assert.Contains(Plan(model).Weights, w => w.Name == "L0_Peepholes");
    }

    [Theory]
    [InlineData("Lstm", InputRoute.FoldedTableRow, true, false)]
    [InlineData("OneHotInput", InputRoute.OneHotColumn, true, false)]
    [InlineData("Caption", InputRoute.EmbeddingRow, false, true)]
    [InlineData("CaptionOneHot", InputRoute.OneHotColumn, true, true)]
    public void TokenModels_Layer0RoutesFollowTheInput(string model, InputRoute route, bool tokenCell, bool vectorCell)
    {
        ModelPlan plan = Plan(model);
        CellPlan layer0 = plan.Cells[0];

        Assert.Equal(route, plan.TokenInput!.Route);
        Assert.Equal(tokenCell, layer0.TokenInput);
        Assert.Equal(vectorCell, layer0.VectorInput);
        Assert.Equal(tokenCell, plan.Weights.Any(w => w.Name == "L0_Table"));
        Assert.Equal(vectorCell, plan.Weights.Any(w => w.Name == "L0_W_ih"));
        Assert.Equal(route == InputRoute.EmbeddingRow, plan.Weights.Any(w => w.Name == "Embedding"));
    }

    [Fact]
    public void DenseModel_HasNoTokenRoute_AndLayer0TakesVectors()
    {
        ModelPlan plan = Plan("DenseInput");

        Assert.Null(plan.TokenInput);
        Assert.True(plan.Cells[0].VectorInput);
        Assert.False(plan.Cells[0].TokenInput);
    }

    [Fact]
    public void LargeVocabulary_KeepsTheEmbeddingRow_SmallOneFolds()
    {
        // Table (V, 4H padded) against embedding (V, E) + W_ih (4H, E): a large E-to-H ratio keeps folding cheap.
        ModelPlan small = Plan(TestModels.Lstm(vocab: 11, e: 32, h: 9));
        ModelPlan large = Plan(TestModels.Lstm(vocab: 500, e: 5, h: 64));

        Assert.Equal(InputRoute.FoldedTableRow, small.TokenInput!.Route);
        Assert.Equal(InputRoute.EmbeddingRow, large.TokenInput!.Route);
        Assert.Equal(5, large.TokenInput.EmbeddingSize);
    }

    [Fact]
    public void Sizes_ArePaddedForTheKernel_AndInlineArraysCoverTheState()
    {
        ModelPlan plan = Plan(TestModels.Lstm(vocab: 11, e: 5, h: 9, layers: 2));

        Assert.All(plan.Cells, c => Assert.Equal(36, c.GateRows));
        Assert.All(plan.Cells, c => Assert.Equal(48, c.PaddedGateRows));
        Assert.Equal(new[] { 9 }, plan.InlineArraySizes);
        Assert.All(plan.State, s => Assert.Equal((9, 9), (s.HiddenSize, s.CellSize)));
        Assert.Equal(16, plan.Head.PaddedOutputSize);
        Assert.Equal("Layer1", plan.Cells[1].Method);
    }

    [Fact]
    public void Projection_StateIsP_CellIsH()
    {
        ModelPlan plan = Plan("LstmProjection");

        Assert.Equal((1, 2), (plan.State[0].HiddenSize, plan.State[0].CellSize));
        Assert.Equal(new[] { 1, 2 }, plan.InlineArraySizes);
        Assert.Equal(16, plan.Cells[0].PaddedProjectionRows);
    }

    [Fact]
    public void Bidirectional_HasNoState_TwoCellsForTheLayer()
    {
        ModelPlan plan = Plan("Bidirectional");

        Assert.Empty(plan.State);
        Assert.False(plan.Surface.State);
        Assert.Equal(new[] { "Layer0", "Layer0Reverse" }, plan.Cells.Select(c => c.Method));
        Assert.Equal(new[] { 0, 1 }, plan.Layers[0].Cells);
        Assert.Equal(4, plan.MaxLayerWidth);
        Assert.Contains(plan.Weights, w => w.Name == "L0R_W_hh");
    }

    [Theory]
    [InlineData("Lstm", new[] { "ITokenModel", "ITokenSequenceModel", "IVocabularyModel" })]
    [InlineData("DenseInput", new[] { "IDenseModel", "IDenseSequenceModel" })]
    [InlineData("Bidirectional", new[] { "ITokenSequenceModel" })]
    [InlineData("Caption", new[] { "ICaptionModel", "ITokenSequenceModel", "IVocabularyModel" })]
    public void CapabilityInterfaces_ListOnlyWhatTheModelCanDo(string model, string[] interfaces)
    {
        ModelSurface surface = Plan(model).Surface;

        Assert.Equal(interfaces, surface.Interfaces);
    }

    [Fact]
    public void CapabilityInterfaces_BidirectionalDense_HasRunOnly()
    {
        ModelSpec dense = SnapshotModels.All["DenseInput"]();
        LayerSpec l = dense.Layers[0];
        var bidi = new LayerSpec { Cell = l.Cell, InputSize = l.InputSize, HiddenSize = l.HiddenSize, Forward = l.Forward, Backward = l.Forward };
        var spec = new ModelSpec { InputKind = InputKind.Dense, InputSize = dense.InputSize, Layers = [bidi] };

        ModelSurface s = Plan(spec).Surface;

        Assert.Equal(new[] { "IDenseSequenceModel" }, s.Interfaces);
        Assert.False(s.TokenStep || s.DenseStep || s.TokenRun || s.State || s.VocabularyMembers);
        Assert.True(s.DenseRun);
    }

    [Theory]
    [InlineData(512, "V512")]
    [InlineData(256, "V256")]
    [InlineData(128, "V128")]
    [InlineData(0, "Scalar")]
    public void WidthCap_FollowsMaxVectorWidth(int width, string cap) =>
        Assert.Equal(cap, Plan(SnapshotModels.All["Rnn"](), width: width).WidthCap);

    [Fact]
    public void BadWidth_IsAnEmitError()
    {
        var e = Assert.Throws<CSharpEmitter.EmitException>(() => Plan(SnapshotModels.All["Rnn"](), width: 64));
        Assert.Equal("bad-width", e.Code);
    }

    [Fact]
    public void Plan_IsDeterministic()
    {
        ModelSpec spec = SnapshotModels.All["CaptionOneHot"]();
        ModelPlan a = Plan(spec);
        ModelPlan b = Plan(spec);

        Assert.Equal(a.Weights.Select(w => w.Name), b.Weights.Select(w => w.Name));
        Assert.All(a.Weights.Zip(b.Weights), p => Assert.Equal(p.First.Data, p.Second.Data));
        Assert.Equal(SourceWriter.Write(a), SourceWriter.Write(b));
    }

    [Fact]
    public void Shape_IsOneLine()
    {
        Assert.Equal("Embedding (3, 2) → GRU(2) → Dense (3)", Plan("GruResetAfter").Shape);
        Assert.Equal("Image (4) → Dense (2) | Embedding (5, 2) → LSTM(2) → Dense (5)", Plan("Caption").Shape);
    }
}
