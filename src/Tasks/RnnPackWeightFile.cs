// The MSBuild task behind every <RnnModel> item (RnnEmbedded.targets): validates one weight file, writes its weight
// blob (embedded as a manifest resource) and the carrier the generator reads (the file's header, not its weights).
// The work is RnnCompiler's WeightPack, inside the generator assembly, loaded from its bytes: a rebuilt generator is
// never shadowed by a copy an MSBuild node loaded earlier, and no file stays locked. This file is compiled two ways
// (docs/generator.md, "Build cost"): into RnnEmbedded.Tasks.dll, which the package carries, and, where that
// assembly is absent (inside this repository), inline by MSBuild's RoslynCodeTaskFactory.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace RnnEmbedded.Build
{
    /// <summary>Packs one RnnModel weight file into its blob and carrier.</summary>
    public sealed class RnnPackWeightFile : Task
    {
        // One assembly's manifest resources: a resource's size is an int32 in the PE format (WeightLayout.MaxBlobBytes).
        private const long MaxTotalBlobBytes = int.MaxValue - (64L * 1024 * 1024);

        // The generator assemblies this node loaded, by path, length and write time: each model of a build (and each
        // build a reused node runs) reuses the load while the file is unchanged.
        private static readonly Dictionary<string, Assembly> s_generators = new Dictionary<string, Assembly>(StringComparer.Ordinal);

        /// <summary>The weight file (safetensors or ONNX).</summary>
        [Required]
        public string Source { get; set; } = "";

        /// <summary>The generated type's full name.</summary>
        [Required]
        public string ClassName { get; set; } = "";

        /// <summary>The storage type of the weights (float32, bfloat16, int8, int8-dynamic); empty means float32.</summary>
        public string? WeightType { get; set; }

        /// <summary>RnnEmbedded.Generators.dll, the assembly whose WeightPack does the work.</summary>
        [Required]
        public string GeneratorAssembly { get; set; } = "";

        /// <summary>The weight blob to write.</summary>
        [Required]
        public string Blob { get; set; } = "";

        /// <summary>The carrier (text) to write.</summary>
        [Required]
        public string Carrier { get; set; } = "";

        /// <summary>Every model's blob in this project, for the per-assembly size limit.</summary>
        [Required]
        public string[] AllBlobs { get; set; } = Array.Empty<string>();

        /// <inheritdoc/>
        public override bool Execute()
        {
            MethodInfo pack = LoadGenerator(GeneratorAssembly).GetType("RnnEmbedded.Compiler.Emit.WeightPack", true)!.GetMethod(
                "Pack", new[] { typeof(byte[]), typeof(string), typeof(string), typeof(string), typeof(Stream) })!;
            byte[] file = File.ReadAllBytes(Source);
            Directory.CreateDirectory(Path.GetDirectoryName(Blob)!);
            string temp = Blob + ".tmp";
            string carrier;
            try
            {
                using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                {
                    carrier = (string)pack.Invoke(null, new object[] { file, Source, ClassName, WeightType ?? "", stream })!;
                }
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                File.Delete(temp);
                Exception inner = e.InnerException;
                string? reason = inner.GetType().Name == "EmitException" ? (string?)inner.GetType().GetProperty("Code")!.GetValue(inner) : null;
                string code = inner.GetType().Name == "RnnFormatException" ? "RNN0001"
                    : reason == "too-large" ? "RNN0004" : reason == "bad-name" ? "RNN0003"
                    : reason == "bad-weight-type" ? "RNN0011" : reason != null ? "RNN0002" : "RNN0009";
                Log.LogError(null, code, null, Source, 1, 1, 0, 0, code == "RNN0009" ? inner.ToString() : inner.Message);
                return false;
            }

            if (File.Exists(Blob))
            {
                File.Delete(Blob);
            }

            File.Move(temp, Blob);

            // Checked here, where a blob changes, so an unchanged build runs no task; on failure the blob goes, so the
            // next build packs and checks again.
            long total = 0;
            foreach (string blob in AllBlobs)
            {
                if (File.Exists(blob))
                {
                    total += new FileInfo(blob).Length;
                }
            }

            if (total > MaxTotalBlobBytes)
            {
                File.Delete(Blob);
                Log.LogError(null, "RNN0004", null, Source, 1, 1, 0, 0,
                    "The RnnModel weights of this project take " + (total >> 20) + " MB packed; one assembly holds at most " +
                    (MaxTotalBlobBytes >> 20) + " MB of manifest resources (the PE format's 32-bit sizes). Put some models in another assembly.");
                return false;
            }

            File.WriteAllText(Carrier, carrier, new UTF8Encoding(false));
            return true;
        }

        private static Assembly LoadGenerator(string path)
        {
            var info = new FileInfo(path);
            string key = path + "|" + info.Length + "|" + info.LastWriteTimeUtc.Ticks;
            lock (s_generators)
            {
                if (!s_generators.TryGetValue(key, out Assembly? generator))
                {
                    generator = Assembly.Load(File.ReadAllBytes(path));
                    s_generators[key] = generator;
                }

                return generator;
            }
        }
    }
}
